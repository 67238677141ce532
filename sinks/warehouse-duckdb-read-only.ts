import * as fs from "fs";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Row } from "../model/row";
import { rowsOf } from "./warehouse-duckdb";

/**
 * The local warehouse opened for reading only (what `api2lake query` uses): DuckDB's
 * `access_mode = READ_ONLY`, so `DROP`, `INSERT`, `CREATE` are refused by the engine, and a
 * missing file is an error instead of a new empty warehouse.
 */
export interface ReadOnlyWarehouse {
  query(sql: string): Promise<Row[]>;
  close(): void;
}

/**
 * @throws Error `no warehouse at <file>` when the file does not exist; DuckDB's lock error
 *   (another process has the file open for writing, e.g. a run) otherwise.
 */
export async function openDuckDbReadOnly(file: string): Promise<ReadOnlyWarehouse> {
  if (!fs.existsSync(file)) throw new Error(`no warehouse at ${file} (check --out; a run creates it)`);
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    query: async (sql: string) => {
      return rowsOf(await connection.runAndReadAll(sql));
    },
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
