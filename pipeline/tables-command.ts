import type { SinkTarget } from "../model/backends";
import type { Row } from "../model/row";
import type { ParsedOptions } from "./options";
import { sinkTarget } from "./sink-target";
import { queryLocal, queryWarehouse } from "./query-command";
import { chooseFormat, formatRows } from "./row-output";

/** The warehouse's schemas (datasets on BigQuery, after `--datasetPrefix`), in the order data flows. */
export const WAREHOUSE_SCHEMAS = ["lake", "hub", "dataproducts"] as const;

/** One warehouse table and its row count. */
export interface TableCount {
  schema: string;
  table: string;
  rows: number;
}

/** SQL listing the local (DuckDB) warehouse's tables of the three schemas. */
export const DUCKDB_TABLES_SQL = `SELECT table_schema AS "schema", table_name AS "table" FROM information_schema.tables
  WHERE table_schema IN (${WAREHOUSE_SCHEMAS.map((s) => `'${s}'`).join(", ")}) ORDER BY 1, 2`;

/**
 * BigQuery: each dataset's `__TABLES__` meta-table gives the row counts without scanning
 * (https://cloud.google.com/bigquery/docs/information-schema-tables); a dataset that does not exist
 * yet lists nothing.
 */
export function bigQueryTablesSql(project: string, datasetPrefix: string, schema: string): string {
  return `SELECT '${schema}' AS schema, table_id AS \`table\`, row_count AS rows
    FROM \`${project}.${datasetPrefix}${schema}.__TABLES__\` ORDER BY table_id`;
}

/** Sorts tables by schema (lake, hub, dataproducts), then name. */
export function sortTables(tables: readonly TableCount[]): TableCount[] {
  const rank = (schema: string) => (WAREHOUSE_SCHEMAS as readonly string[]).indexOf(schema);
  return tables.slice().sort((a, b) => rank(a.schema) - rank(b.schema) || a.table.localeCompare(b.table));
}

/** Every table of the warehouse with its row count (DuckDB: COUNT(*) per table on the read-only file). */
export async function listTables(target: SinkTarget): Promise<TableCount[]> {
  if (target.kind === "local") {
    const names = await queryLocal(target.out, DUCKDB_TABLES_SQL);
    if (!names.length) return [];
    const counts = names.map((n) => {
      const schema = String(n.schema);
      const table = String(n.table);
      return `SELECT '${schema}' AS "schema", '${table.replace(/'/g, "''")}' AS "table", COUNT(*) AS "rows" FROM "${schema}"."${table.replace(/"/g, '""')}"`;
    });
    return sortTables((await queryLocal(target.out, counts.join(" UNION ALL "))).map(toCount));
  }
  const out: TableCount[] = [];
  for (const schema of WAREHOUSE_SCHEMAS) {
    const rows = await queryWarehouse(target, bigQueryTablesSql(target.project, target.datasetPrefix, schema)).catch((error: Error) => {
      if (/not found/i.test(error.message)) return [] as Row[];
      throw error;
    });
    out.push(...rows.map(toCount));
  }
  return sortTables(out);
}

function toCount(row: Row): TableCount {
  return { schema: String(row.schema), table: String(row.table), rows: Number(row.rows) };
}

/** `api2lake tables`: schemas, tables and row counts (`--format table|jsonl|csv` as for `query`). */
export async function tablesCommand(options: ParsedOptions): Promise<number> {
  const tables = await listTables(sinkTarget(options));
  process.stdout.write(await formatRows(tables as unknown as Row[], chooseFormat(options.format, process.stdout.isTTY === true)));
  return 0;
}
