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
