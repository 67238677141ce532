import type { ParsedOptions } from "./options";
import { openWarehouse } from "../sinks/open-backends";
import { sinkTarget } from "./run";

/** `api2lake query "<sql>"`: runs SQL on the warehouse (DuckDB file or BigQuery) and prints rows as JSON lines. */
export async function queryCommand(options: ParsedOptions, positional: string[]): Promise<number> {
  const sql = positional.join(" ").trim();
  if (!sql) {
    console.error('usage: api2lake query "SELECT * FROM hub.customers LIMIT 5" [--out ./out]');
    return 2;
  }
  const warehouse = await openWarehouse(sinkTarget(options));
  try {
    const rows = await warehouse.query(sql);
    for (const row of rows) console.log(JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));
    return 0;
  } finally {
    await warehouse.close();
  }
}
