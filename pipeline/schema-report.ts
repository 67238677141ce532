import type { SchemaPlan } from "../transforms/schema-contract";
import type { SchemaReport } from "./manifest";

/** The manifest's view of a run's schema plan (plain data, sorted as the plan is). */
export function schemaReport(plan: SchemaPlan): SchemaReport {
  return {
    contract: { newColumns: plan.contract.newColumns, typeChanges: plan.contract.typeChanges },
    established: !plan.existed,
    columns: plan.schema.columns.map((c) => ({
      path: c.path, column: c.column, type: c.type, declared: c.declared, variants: { ...c.variants } as Record<string, string>,
    })),
    collisions: plan.schema.collisions.map((c) => ({ ...c })),
    added: [...plan.added],
    added_variants: plan.addedVariants.map((v) => ({ ...v })),
    refused_paths: [...plan.refusedPaths],
  };
}

/**
 * The schema as text for `api2lake schema <entity>`: one aligned line per path (path, column,
 * type, declared or inferred, variants), then the collisions.
 */
export function formatSchema(title: string, report: Pick<SchemaReport, "columns" | "collisions">): string {
  const lines = [title, ""];
  const rows = report.columns.map((c) => {
    const variants = Object.entries(c.variants).map((e) => `${e[0]} -> ${e[1]}`).join(", ");
    return [c.path, c.column, c.type, c.declared ? "declared" : "inferred", variants];
  });
  const head = ["path", "column", "type", "from", "variants"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
  lines.push(line(head));
  for (const r of rows) lines.push(line(r));
  lines.push("");
  if (report.collisions.length === 0) lines.push("collisions: none");
  else {
    lines.push("collisions:");
    for (const c of report.collisions) lines.push(`  ${c.path} wanted ${c.wanted} (held by ${c.taken_by}) -> ${c.column}`);
  }
  return lines.join("\n");
}
