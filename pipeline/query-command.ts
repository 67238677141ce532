import type { CommandOptions } from "./options";
import { localPaths, openWarehouse } from "../sinks/open-backends";
import { openDuckDbReadOnly } from "../sinks/warehouse-duckdb-read-only";
import type { Row } from "../model/row";
import { sinkTarget } from "./sink-target";
import { describeHolder, readLockHolder } from "./out-lock";
import { UsageError } from "./usage-error";
import { chooseFormat, formatRows } from "./row-output";

/**
 * `api2lake query "<sql>"`: runs SQL on the warehouse and prints the rows (pipeline/row-output.ts:
 * `--format table|jsonl|csv`, by default a table on a terminal and JSON lines elsewhere). The local
 * DuckDB file is opened read-only (writes are refused by the engine) and must exist; while a run
 * holds it, the command fails at once naming that run.
 */
export async function queryCommand(options: CommandOptions<"query">, positional: string[]): Promise<number> {
  const sql = positional.join(" ").trim();
  if (!sql) {
    console.error('usage: api2lake query "SELECT * FROM hub.customers LIMIT 5" [--out ./out] [--format table|jsonl|csv]');
    return 2;
  }
  const target = sinkTarget(options);
  const rows = target.kind === "local" ? await queryLocal(target.out, sql) : await queryWarehouse(target, sql);
  process.stdout.write(await formatRows(rows, chooseFormat(options.format, process.stdout.isTTY === true)));
  return 0;
}

/** Runs `sql` on the local warehouse opened read-only; a busy or missing file is a usage error naming why. */
export async function queryLocal(out: string, sql: string): Promise<Row[]> {
  const file = localPaths(out).warehouse;
  let warehouse;
  try {
    warehouse = await openDuckDbReadOnly(file);
  } catch (error) {
    const holder = readLockHolder(out);
    const busy = holder ? `: it is in use by ${describeHolder(holder)}, try again when it has finished` : "";
    throw new UsageError(`cannot open the warehouse read-only (${(error as Error).message.split("\n")[0]})${busy}`);
  }
  try {
    return await warehouse.query(sql).catch((error: Error) => {
      throw new UsageError(error.message.split("\n")[0]);
    });
  } finally {
    warehouse.close();
  }
}

/** Runs `sql` on the target's warehouse (BigQuery for `--sink gcp`). */
export async function queryWarehouse(target: ReturnType<typeof sinkTarget>, sql: string): Promise<Row[]> {
  const warehouse = await openWarehouse(target);
  try {
    return await warehouse.query(sql);
  } finally {
    await warehouse.close();
  }
}
