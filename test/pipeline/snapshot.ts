import type { SinkTarget } from "../../model/backends";
import { openServingStore, openWarehouse } from "../../sinks/open-backends";

/**
 * What a sequence of runs left, comparable across sequences: every hub and dataproducts table
 * (rows sorted, without the columns that name the run: `_run_id`, `_ingested_at`) and every
 * serving table's rows. Tables are listed from the warehouse's own catalog.
 */
export async function landedState(target: SinkTarget, servingTables: readonly string[] = []): Promise<Record<string, string[]>> {
  const warehouse = await openWarehouse(target);
  const out: Record<string, string[]> = {};
  try {
    const tables = await warehouse.query(
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('hub', 'dataproducts') ORDER BY 1, 2",
    );
    for (const row of tables) {
      const name = `${row.s}.${row.t}`;
      const rows = await warehouse.query(`SELECT * EXCLUDE (_run_id${row.s === "hub" ? ", _ingested_at" : ""}) FROM ${row.s}."${row.t}"`);
      out[name] = rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
    }
  } finally {
    await warehouse.close();
  }
  if (servingTables.length) {
    const store = await openServingStore(target);
    try {
      for (const table of servingTables) out[`serving.${table}`] = (await store.read(table)).map((r) => JSON.stringify(r));
    } finally {
      await store.close();
    }
  }
  return out;
}

/** A BigQuery value as comparable text: DATE/TIMESTAMP wrappers as their `value`, numbers to 12 significant digits. */
function bigQueryValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  // Aggregates over the same rows may sum in another order on another run: last-bit differences only.
  if (typeof v === "number") return Number(v.toPrecision(12));
  if (Array.isArray(v)) return v.map(bigQueryValue);
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "value") return o.value;
    return Object.fromEntries(keys.sort().map((k) => [k, bigQueryValue(o[k])]));
  }
  return v;
}

/**
 * `landedState` for a BigQuery warehouse (`target.kind` "gcp", e.g. on the emulator): every table of
 * the `<prefix>hub` and `<prefix>dataproducts` datasets, keyed `hub.<table>` / `dataproducts.<table>`,
 * rows as sorted canonical JSON without `_run_id` and `_ingested_at`. Tables are listed by the REST
 * call tables.list at `apiEndpoint` (the emulator's API2LAKE_BIGQUERY_ENDPOINT, no credentials);
 * a dataset that does not exist (404) lists none.
 */
export async function bigQueryLandedState(target: Extract<SinkTarget, { kind: "gcp" }>, apiEndpoint: string): Promise<Record<string, string[]>> {
  const warehouse = await openWarehouse(target);
  const out: Record<string, string[]> = {};
  try {
    for (const schema of ["hub", "dataproducts"]) {
      const dataset = `${target.datasetPrefix}${schema}`;
      const res = await fetch(`${apiEndpoint}/bigquery/v2/projects/${target.project}/datasets/${dataset}/tables?maxResults=1000`);
      if (res.status === 404) continue;
      if (!res.ok) throw new Error(`tables.list ${dataset}: HTTP ${res.status} ${await res.text()}`);
      const listed = (await res.json()) as { tables?: { tableReference: { tableId: string } }[] };
      const names = (listed.tables ?? []).map((t) => t.tableReference.tableId).sort();
      for (const name of names) {
        const rows = await warehouse.query(`SELECT * FROM \`${dataset}.${name}\``);
        out[`${schema}.${name}`] = rows
          .map((r) => JSON.stringify(Object.keys(r).filter((k) => k !== "_run_id" && k !== "_ingested_at").sort().map((k) => [k, bigQueryValue(r[k])])))
          .sort();
      }
    }
  } finally {
    await warehouse.close();
  }
  return out;
}
