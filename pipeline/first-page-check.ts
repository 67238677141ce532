import { LINEAGE_COLUMNS, type Row } from "../model/row";
import type { SourceConfig } from "../model/source-config";
import { redact, redactDeep, type Secrets } from "../sources/rest/auth/index";
import { fetchSeries, type FetchContext } from "../sources/rest/fetch-pages";
import { openSecrets, resolveReferences } from "../sources/rest/secrets";
import { planWorkItems } from "../sources/rest/work-item";
import type { DateRange } from "../sources/rest/slices";
import { mergeObservations, observeRecord, planSchema, type PathObservations } from "../transforms/schema-contract";
import { compileEntityCleaner } from "./entity-cleaner";

/**
 * `api2lake check`: one entity's first page (of its first slice and path-parameter combination),
 * fetched with the run's own fetch core and landed in memory through the run's own cleaning chain
 * (flatten, names, schema plan, validation, dates, phones), so what it shows is what a first run
 * would land. Nothing is written. Every text in the result is masked with the config's secrets.
 */

/** One landed column of the first record. */
export interface CheckedColumn {
  column: string;
  /** Source key path (absent for columns the chain derives, e.g. `phone_e164`). */
  path?: string;
  /** Warehouse type: the declared one, else inferred from the first page's values. */
  type: string;
  from: "declared" | "inferred" | "derived";
  /** The landed value as JSON, cut at 60 characters. */
  value: string;
}

export interface EntityCheck {
  entity: string;
  method: string;
  /** Request of the first page without the credentials auth adds, other secrets masked. */
  url: string;
  /** HTTP status of the first page (null when no response came). */
  status: number | null;
  /** The entity's `recordsPath` (`(body)` when the body itself is the array). */
  recordsPath: string;
  /** Records on the first page (objects; `rejected` are the others). */
  records: number;
  rejected: number;
  /** The first record as the run lands it in `hub.<entity>`, lineage columns left out. */
  columns: CheckedColumn[];
  /** Why the first record would be dead-lettered instead (stage: reason), if it would. */
  firstRecordRefused?: string;
  /** Declared `fields` that no record of the first page holds (non-null). */
  missingFields: string[];
  /** The request the paginator would make next, or undefined when it stops after this page. */
  next?: string;
  /** Why the entity did not answer (the fetch dead letter's reason); undefined when it did. */
  error?: string;
}

const shortJson = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "null";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * Fetches and inspects the first page of `entity`. A sliced entity reads the first slice of
 * `range` (the caller picks a default range). HTTP trouble is reported in `error`, never thrown.
 */
export async function checkEntity(
  source: SourceConfig, entity: string, range: DateRange, ctx: Pick<FetchContext, "fetch" | "clock"> = {},
): Promise<EntityCheck> {
  const item = planWorkItems(source, { entities: [entity], range: range })[0];
  const opened = openSecrets(source);
  const secrets: Secrets = opened.secrets;
  const clean = (text: string) => redact(text, secrets);
  const pathParams = resolveReferences(item.pathParams, process.env, new Set(source.publicVariables ?? [])).value;
  const series = await fetchSeries(
    { source: opened.source, entity: entity, slice: item.slice, pathParams: pathParams, secrets: secrets },
    { runId: "check", pageLimit: 1, maxWorkers: 1, fetch: ctx.fetch, clock: ctx.clock },
  );
  const declared = opened.source.entities[entity];
  const recordsPath = declared.recordsPath === "" ? "(body)" : declared.recordsPath;
  const page = series.pages[0];
  const failure = series.deadLetters.find((d) => d.stage === "fetch");
  if (!page) {
    const failed = series.failedRequest ?? { url: "", status: null };
    return {
      entity: entity, method: declared.method ?? "GET", url: clean(failed.url), status: failed.status,
      recordsPath: recordsPath, records: 0, rejected: 0,
      columns: [], missingFields: [], error: clean(failure?.error ?? "no page was fetched"),
    };
  }
  const records = page.records.map((r) => ({ ...page.attached, ...(r as Row) }));
  const observed: PathObservations = {};
  for (const r of records) mergeObservations(observed, observeRecord(r, declared.explode));
  const plan = planSchema(undefined, observed, declared, { source: source.name, entity: entity, runId: "check" });
  const byColumn = new Map(plan.schema.columns.map((c) => [c.column, c] as [string, (typeof plan.schema.columns)[number]]));
  const result: EntityCheck = {
    entity: entity, method: declared.method ?? "GET", url: page.request.url, status: page.request.status, recordsPath: recordsPath,
    records: page.records.length, rejected: page.request.rejected, columns: [],
    missingFields: Object.keys(declared.fields).filter((f) => !byColumn.has(f)),
  };
  if (series.next !== undefined) result.next = series.next;
  if (failure) result.error = clean(failure.error);
  if (records.length === 0) return result;
  const cleaner = compileEntityCleaner(declared, { maxRecordBytes: source.maxRecordBytes, schema: plan });
  const origin = { runId: "check", source: series.endpoint, page: page.request.page, fetchedAt: page.request.fetched_at };
  const cleaned = cleaner.clean(records[0], origin);
  if (!cleaned.ok) {
    result.firstRecordRefused = clean(`${cleaned.stage}: ${cleaned.reason}`);
    return result;
  }
  const lineage = new Set<string>(LINEAGE_COLUMNS);
  const landed = redactDeep(cleaned.row, secrets);
  for (const column of Object.keys(landed)) {
    if (lineage.has(column)) continue;
    const c = byColumn.get(column);
    const value = landed[column];
    const field = declared.fields[column];
    const from = c?.declared ? "declared" : "inferred";
    if (c) result.columns.push({ column: column, path: c.path, type: c.type, from: from, value: shortJson(value) });
    // A declared field the record lacks lands as null in its declared column.
    else if (field) result.columns.push({ column: column, type: field.type, from: "declared", value: shortJson(value) });
    else result.columns.push({ column: column, type: derivedType(value), from: "derived", value: shortJson(value) });
  }
  return result;
}

/** Type of a column the chain adds itself (phones: `<f>_e164` text, `<f>_valid` boolean). */
function derivedType(value: unknown): string {
  return typeof value === "boolean" ? "boolean" : typeof value === "number" ? "number" : "string";
}

/** The check of one entity as text: request, status, records, the first record's columns, next request. */
export function formatEntityCheck(sourceName: string, check: EntityCheck): string {
  const lines = [`${sourceName}.${check.entity}`];
  lines.push(`  request:   ${check.method} ${check.url || "(none)"}`);
  lines.push(`  status:    ${check.status ?? "no response"}`);
  if (check.error !== undefined) lines.push(`  error:     ${check.error}`);
  lines.push(`  records:   ${check.records} at ${check.recordsPath}${check.rejected ? ` (${check.rejected} not objects)` : ""}`);
  if (check.firstRecordRefused !== undefined) lines.push(`  first record would be dead-lettered: ${check.firstRecordRefused}`);
  if (check.columns.length) {
    lines.push("  first record as landed:");
    const rows = check.columns.map((c) => [c.column, c.type, c.from, c.path ?? "", c.value]);
    const head = ["column", "type", "from", "source path", "value"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => ("    " + r.map((x, i) => x.padEnd(widths[i])).join("  ")).trimEnd();
    lines.push(line(head));
    for (const r of rows) lines.push(line(r));
  }
  lines.push(`  declared fields not found: ${check.missingFields.length ? check.missingFields.join(", ") : "none"}`);
  const none = check.error !== undefined ? "none (the series stopped)" : "none (the paginator stops after this page)";
  lines.push(`  next:      ${check.next ?? none}`);
  return lines.join("\n");
}
