import * as path from "path";
import * as fs from "fs";
import * as os from "os";
import * as crypto from "crypto";
import { DuckDBInstance, DuckDBTypeId } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { FieldType } from "../model/source-config";
import type { ColumnSpec, RecomputeRequest, TableSpec, Warehouse } from "../model/backends";
import { DUCKDB, recomputeStatements } from "./recompute-sql";

/**
 * The warehouse on the local disk: one DuckDB file (`<out>/warehouse.duckdb`) with the schemas
 * `lake`, `hub` and `dataproducts`.
 *
 * - Tables are created from the `TableSpec` on first write; columns the spec or the rows add
 *   later are added with `ALTER TABLE ... ADD COLUMN` (never dropped). Row keys the spec does
 *   not declare become `VARCHAR` columns (`JSON` when the first value seen is an object or array).
 * - Rows are bulk-loaded from a temporary NDJSON file through `read_json` (every field read as
 *   text, JSON columns as JSON), then cast to the table's column types in SQL (zone-less
 *   timestamps are read as UTC, epoch-ms numbers accepted for dates and timestamps; a value that
 *   does not cast fails the whole call and loads nothing: nothing is dropped silently).
 * - `mergeHub` deletes the rows whose primary key is in the batch and inserts the batch (the last
 *   row wins within a batch), in one transaction: loading the same rows twice leaves the table as once.
 * - DuckDB lets one process hold a file open for writing: every handle on the same file in this
 *   process shares one instance and one connection (reference counted, closed with the last
 *   `close()`), and their calls run one after another.
 *
 * @example
 * const wh = await openDuckDbWarehouse("./out/warehouse.duckdb");
 * await wh.mergeHub({ name: "customers", columns: [{ name: "customer_id", type: "integer" }], primaryKey: ["customer_id"] }, rows);
 * await wh.query("select count(*) as n from hub.customers"); // [{ n: 3 }]
 * await wh.close();
 */

export const WAREHOUSE_SCHEMAS = ["lake", "hub", "dataproducts"] as const;
export type WarehouseSchema = (typeof WAREHOUSE_SCHEMAS)[number];

const DUCK_TYPES: Record<FieldType, string> = {
  string: "VARCHAR",
  integer: "BIGINT",
  number: "DOUBLE",
  boolean: "BOOLEAN",
  date: "DATE",
  timestamp: "TIMESTAMP",
  json: "JSON",
};

/** Columns of `lake.<entity>_error_records`. */
export const ERROR_RECORD_COLUMNS: readonly ColumnSpec[] = [
  { name: "failed_at", type: "timestamp" },
  { name: "stage", type: "string" },
  { name: "error", type: "string" },
  { name: "payload", type: "string" },
  { name: "source", type: "string" },
  { name: "run_id", type: "string" },
  { name: "entity", type: "string" },
];

/** Row-order column added to staged rows (the last duplicate of a key wins a merge). */
const SEQ = "__api2lake_seq";

interface SharedDb {
  file: string;
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  refs: number;
  /** Tail of the chain that runs every call on this file one at a time. */
  tail: Promise<unknown>;
  staging: number;
}

/** Folder for the NDJSON files `read_json` loads; one per process, removed at exit. */
let stagingDir: string | undefined;
function stagingFile(n: number): string {
  if (!stagingDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-duckdb-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    stagingDir = dir;
  }
  return path.join(stagingDir, `${crypto.randomBytes(6).toString("hex")}-${n}.ndjson`);
}

const openDbs = new Map<string, Promise<SharedDb>>();

/** Opens (or shares) the DuckDB warehouse at `file`, creating the file and the three schemas. */
export async function openDuckDbWarehouse(file: string): Promise<DuckDbWarehouse> {
  const key = file === ":memory:" ? file + Math.random() : path.resolve(file);
  let pending = openDbs.get(key);
  if (!pending) {
    pending = createShared(key, file === ":memory:" ? ":memory:" : key);
    openDbs.set(key, pending);
    pending.catch(() => openDbs.delete(key));
  }
  const shared = await pending;
  shared.refs += 1;
  return new DuckDbWarehouse(shared, key);
}

async function createShared(key: string, location: string): Promise<SharedDb> {
  if (location !== ":memory:") await fs.promises.mkdir(path.dirname(location), { recursive: true });
  const instance = await DuckDBInstance.create(location);
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  for (const s of WAREHOUSE_SCHEMAS) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  return { file: key, instance: instance, connection: connection, refs: 0, tail: Promise.resolve(), staging: 0 };
}

export class DuckDbWarehouse implements Warehouse {
  private closed = false;

  constructor(private readonly db: SharedDb, private readonly key: string) {}

  /** The SQL name of a table: `hub.customers`. */
  tableName(schema: WarehouseSchema, table: string): string {
    return `${schema}.${ident(table)}`;
  }

  appendLake(table: TableSpec, rows: readonly Row[]): Promise<void> {
    return this.exclusive(async (c) => {
      const cols = await ensureTable(c, "lake", table, rows);
      if (rows.length === 0) return;
      const file = await this.stage(cols, rows);
      try {
        await c.run(`INSERT INTO lake.${ident(table.name)} (${cols.map((x) => ident(x.name)).join(", ")}) SELECT ${castList(cols)} FROM ${readJson(file, cols)} ORDER BY ${SEQ}`);
      } finally {
        await fs.promises.rm(file, { force: true });
      }
    });
  }

  mergeHub(table: TableSpec, rows: readonly Row[]): Promise<void> {
    const keys = table.primaryKey ?? [];
    if (keys.length === 0) return Promise.reject(new Error(`hub.${table.name}: mergeHub needs a primaryKey`));
    return this.exclusive(async (c) => {
      const cols = await ensureTable(c, "hub", table, rows);
      if (rows.length === 0) return;
      const keyCols = keys.map((k) => findColumn(cols, k, `hub.${table.name} primary key`));
      const target = `hub.${ident(table.name)}`;
      await this.transaction(c, cols, rows, async (typed) => {
        const match = keyCols.map((k) => `t.${ident(k.name)} IS NOT DISTINCT FROM s.${ident(k.name)}`).join(" AND ");
        await c.run(`DELETE FROM ${target} AS t WHERE EXISTS (SELECT 1 FROM ${typed} AS s WHERE ${match})`);
        await c.run(`INSERT INTO ${target} (${cols.map((x) => ident(x.name)).join(", ")}) SELECT ${cols.map((x) => ident(x.name)).join(", ")} FROM ${typed}`);
      }, keyCols);
    });
  }

  replaceDataProduct(table: TableSpec, rows: readonly Row[]): Promise<void> {
    return this.exclusive(async (c) => {
      const cols = await ensureTable(c, "dataproducts", table, rows);
      const target = `dataproducts.${ident(table.name)}`;
      const part = table.partitionColumn ? findColumn(cols, table.partitionColumn, `${target} partitionColumn`) : undefined;
      await this.transaction(c, cols, rows, async (typed) => {
        if (part) {
          const p = ident(part.name);
          await c.run(`DELETE FROM ${target} AS t WHERE EXISTS (SELECT 1 FROM ${typed} AS s WHERE t.${p} IS NOT DISTINCT FROM s.${p})`);
        } else {
          await c.run(`DELETE FROM ${target}`);
        }
        await c.run(`INSERT INTO ${target} (${cols.map((x) => ident(x.name)).join(", ")}) SELECT ${cols.map((x) => ident(x.name)).join(", ")} FROM ${typed}`);
      });
    });
  }

  /**
   * Deletes and re-inserts the request's dataproduct rows from the hub in one transaction (see
   * `recomputeStatements`); creates the dataproduct table if needed. A hub table that does not
   * exist yet has nothing to compute: 0 rows, the table untouched.
   */
  recomputeDataProduct(request: RecomputeRequest): Promise<number> {
    return this.exclusive(async (c) => {
      await ensureTable(c, "dataproducts", request.table, []);
      if ((await tableColumns(c, "hub", request.hubTable)).length === 0) return 0;
      const names = { hub: this.tableName("hub", request.hubTable), product: this.tableName("dataproducts", request.table.name), quote: ident };
      const statements = recomputeStatements(DUCKDB, request, names);
      let written = 0;
      await c.run("BEGIN TRANSACTION");
      try {
        for (const s of statements) {
          await c.run(s.delete);
          written += (await c.run(s.insert)).rowsChanged;
        }
        await c.run("COMMIT");
      } catch (e) {
        await c.run("ROLLBACK").catch(() => undefined);
        throw new Error(`recompute ${names.product} from ${names.hub}: ${(e as Error).message}`);
      }
      return written;
    });
  }

  writeErrors(entity: string, letters: readonly DeadLetter[]): Promise<void> {
    return this.appendLake({ name: `${entity}_error_records`, columns: ERROR_RECORD_COLUMNS }, letters as unknown as Row[]);
  }

  query(sql: string): Promise<Row[]> {
    return this.exclusive(async (c) => {
      const reader = await c.runAndReadAll(sql);
      const types = reader.columnTypes();
      const names = reader.deduplicatedColumnNames();
      return reader.getRowsJson().map((values) => {
        const row: Row = {};
        values.forEach((v, i) => (row[names[i]] = fromDuck(v, types[i].typeId, types[i].alias)));
        return row;
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.tail.catch(() => undefined);
    this.db.refs -= 1;
    if (this.db.refs > 0) return;
    openDbs.delete(this.key);
    this.db.connection.closeSync();
    this.db.instance.closeSync();
  }

  /** Runs `fn` after every earlier call on this file has finished. */
  private exclusive<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`warehouse ${this.key} is closed`));
    const run = this.db.tail.then(() => fn(this.db.connection));
    this.db.tail = run.catch(() => undefined);
    return run;
  }

  /** Stages `rows`, casts them into a typed temp table (deduplicated on `dedupeOn`, last wins), and runs `body` in a transaction. */
  private async transaction(c: DuckDBConnection, cols: Column[], rows: readonly Row[], body: (typed: string) => Promise<void>, dedupeOn?: Column[]): Promise<void> {
    const file = await this.stage(cols, rows);
    const typed = `_api2lake_typed_${++this.db.staging}`;
    const qualify = dedupeOn ? ` QUALIFY row_number() OVER (PARTITION BY ${dedupeOn.map((k) => ident(k.name)).join(", ")} ORDER BY ${SEQ} DESC) = 1` : "";
    try {
      await c.run(`CREATE TEMP TABLE ${typed} AS SELECT ${castList(cols)}, ${SEQ} FROM ${readJson(file, cols)}${qualify}`);
      await c.run("BEGIN TRANSACTION");
      try {
        await body(typed);
        await c.run("COMMIT");
      } catch (e) {
        await c.run("ROLLBACK").catch(() => undefined);
        throw e;
      }
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${typed}`);
      await fs.promises.rm(file, { force: true });
    }
  }

  /**
   * Writes `rows` as NDJSON (each line prefixed with its index as `__api2lake_seq`) for
   * `read_json`, DuckDB's parallel reader: about twice as fast as the appender with text values.
   */
  private async stage(cols: Column[], rows: readonly Row[]): Promise<string> {
    const file = stagingFile(++this.db.staging);
    const temporal = cols.filter((x) => x.type === "TIMESTAMP" || x.type === "DATE").map((x) => x.key);
    const handle = await fs.promises.open(file, "w");
    try {
      let text = "";
      for (let i = 0; i < rows.length; i++) {
        const json = JSON.stringify(temporal.length ? epochToIso(rows[i], temporal) : rows[i]);
        text += `{"${SEQ}":${i}${json.length > 2 ? "," + json.slice(1) : "}"}\n`;
        if (text.length > 4_000_000) {
          await handle.write(text);
          text = "";
        }
      }
      await handle.write(text);
    } finally {
      await handle.close();
    }
    return file;
  }
}

/** `read_json` over a staged file: every column as text (JSON columns as JSON), cast by `castList`. */
function readJson(file: string, cols: Column[]): string {
  const columns = cols.map((x) => `${literal(x.key)}: ${x.type === "JSON" ? "'JSON'" : "'VARCHAR'"}`).concat([`${literal(SEQ)}: 'BIGINT'`]);
  return `read_json(${literal(file)}, format = 'newline_delimited', records = true, maximum_object_size = 1073741824, columns = {${columns.join(", ")}})`;
}

/** The row with epoch-millisecond numbers in date/timestamp fields turned into ISO strings (a copy, only when needed). */
function epochToIso(row: Row, keys: string[]): Row {
  let copy: Row | undefined;
  for (const k of keys) {
    const v = row[k];
    if (typeof v === "number" && Number.isFinite(v)) {
      if (!copy) copy = { ...row };
      copy[k] = new Date(v).toISOString();
    }
  }
  return copy ?? row;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

interface Column {
  /** Column name in the table. */
  name: string;
  /** Key in the rows (the spec's or the row's spelling; DuckDB names are case-insensitive). */
  key: string;
  /** DuckDB type as the table has it, e.g. `BIGINT`. */
  type: string;
}

/** Creates the table or adds missing columns; returns the columns to load, in table order. */
async function ensureTable(c: DuckDBConnection, schema: WarehouseSchema, spec: TableSpec, rows: readonly Row[]): Promise<Column[]> {
  const wanted = new Map<string, { key: string; type: string }>();
  for (const col of spec.columns) wanted.set(col.name.toLowerCase(), { key: col.name, type: DUCK_TYPES[col.type] ?? "VARCHAR" });
  for (const row of rows) {
    for (const k in row) {
      const lower = k.toLowerCase();
      if (wanted.has(lower)) continue;
      const v = row[k];
      if (v === undefined) continue;
      wanted.set(lower, { key: k, type: v !== null && typeof v === "object" ? "JSON" : "VARCHAR" });
    }
  }
  const target = `${schema}.${ident(spec.name)}`;
  const existing = await tableColumns(c, schema, spec.name);
  if (existing.length === 0) {
    if (wanted.size === 0) throw new Error(`${target}: no columns in the spec or the rows`);
    await c.run(`CREATE TABLE IF NOT EXISTS ${target} (${[...wanted.values()].map((w) => `${ident(w.key)} ${w.type}`).join(", ")})`);
  } else {
    const have = new Set(existing.map((e) => e.name.toLowerCase()));
    for (const [lower, w] of wanted) if (!have.has(lower)) await c.run(`ALTER TABLE ${target} ADD COLUMN ${ident(w.key)} ${w.type}`);
  }
  const cols = await tableColumns(c, schema, spec.name);
  return cols
    .filter((col) => wanted.has(col.name.toLowerCase()))
    .map((col) => ({ name: col.name, key: wanted.get(col.name.toLowerCase())!.key, type: col.type }));
}

async function tableColumns(c: DuckDBConnection, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  const reader = await c.runAndReadAll(
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    [schema, table],
  );
  return reader.getRowsJson().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
}

function findColumn(cols: Column[], name: string, what: string): Column {
  const col = cols.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!col) throw new Error(`${what} "${name}" is not a column (columns: ${cols.map((x) => x.name).join(", ")})`);
  return col;
}

/** Each staged field cast to its table column's type, named as the column. */
function castList(cols: Column[]): string {
  return cols.map((col) => `${castExpr(ident(col.key), col.type)} AS ${ident(col.name)}`).join(", ");
}

function castExpr(source: string, type: string): string {
  if (type === "VARCHAR") return source;
  if (type === "TIMESTAMP") return `CAST(CAST(${source} AS TIMESTAMPTZ) AS TIMESTAMP)`;
  return `CAST(${source} AS ${type})`;
}

/** A value read back (DuckDB's JSON form) as a plain JS value: safe integers as numbers, timestamps as ISO `...Z`, JSON parsed. */
export function fromDuck(v: unknown, typeId: DuckDBTypeId, alias: string | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (alias === "JSON" && typeof v === "string") return JSON.parse(v);
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT: {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS: {
      const ms = Date.parse(String(v).replace(" ", "T") + "Z");
      return Number.isNaN(ms) ? v : new Date(ms).toISOString();
    }
    case DuckDBTypeId.DECIMAL:
      return Number(v);
    default:
      return v;
  }
}

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
