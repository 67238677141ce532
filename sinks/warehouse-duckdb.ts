import * as path from "path";
import * as fs from "fs";
import * as os from "os";
import * as crypto from "crypto";
import { DuckDBInstance, DuckDBTypeId } from "@duckdb/node-api";
import type { DuckDBConnection, DuckDBResultReader } from "@duckdb/node-api";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { FieldType } from "../model/source-config";
import type { ColumnSpec, HubChildBatch, HubMergeResult, RecomputeRequest, TableSpec, Warehouse } from "../model/backends";
import { DUCKDB, recomputeStatements } from "./recompute-sql";
import { decisionCase, tallyDecisions } from "./hub-decisions";
import type { Decision } from "./hub-decisions";

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
 * - `mergeHub` decides each row against the stored one (hub-decisions.ts: with `orderBy` versions
 *   only move forward; within a batch the newest, then the last, row of a key wins), then deletes
 *   the replaced rows and their children and inserts the accepted rows and their children, in
 *   one transaction: loading the same rows twice leaves the tables as once.
 * - `appendLake` / `writeErrors` insert only rows not already there (anti-join on `_payload_hash`,
 *   or on stage, error and payload SHA-256 for dead letters).
 * - Every identifier is double-quoted and the SQL's own aliases and columns have a space in their
 *   name, so no landed column (`t`, `s`, `select`, ...) can be read as one of them.
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

/**
 * Names the generated SQL gives its own things. Each has a space, which no landed column name
 * has (landed columns match /^[a-z_][a-z0-9_]*$/), so a user's column `t`, `s`, `target` or
 * `select` can never be read as one of them; every identifier is double-quoted.
 */
/** Row-order column added to staged rows (the last duplicate of a key wins a merge). */
const SEQ = "api2lake seq";
const RANK = "api2lake rank";
const DECISION = "api2lake decision";
const PRESENT = "api2lake present";
const TARGET = ident("target row");
const SOURCE = ident("source row");

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
    return this.append(table, rows, "payload");
  }

  mergeHub(table: TableSpec, rows: readonly Row[], children: readonly HubChildBatch[] = []): Promise<HubMergeResult> {
    const keys = table.primaryKey ?? [];
    if (keys.length === 0) return Promise.reject(new Error(`hub.${table.name}: mergeHub needs a primaryKey`));
    return this.exclusive(async (c) => {
      const cols = await ensureTable(c, "hub", table, rows);
      const childCols: Column[][] = [];
      for (const child of children) childCols.push(await ensureTable(c, "hub", child.table, child.rows.flat()));
      if (rows.length === 0) return tallyDecisions([]);
      const keyCols = keys.map((k) => findColumn(cols, k, `hub.${table.name} primary key`));
      // No such column yet: every stored and incoming version is null, which the rule accepts in arrival order.
      const order = table.orderBy === undefined ? undefined : cols.find((x) => x.name.toLowerCase() === table.orderBy?.toLowerCase());
      // A rebuild re-cleans stored payloads: the same payload must still replace (rewriteUnchanged).
      const hash = table.rewriteUnchanged ? undefined : cols.find((x) => x.name.toLowerCase() === "_payload_hash");
      const target = `hub.${ident(table.name)}`;
      const decided = `_api2lake_decided_${++this.db.staging}`;
      const staged: string[] = [];
      const typedChildren: string[] = [];
      try {
        const file = await this.stage(cols, rows);
        staged.push(file);
        await c.run(`CREATE TEMP TABLE ${decided} AS ${decisionSql(target, cols, keyCols, order, hash, readJson(file, cols))}`);
        const decisions = (await c.runAndReadAll(`SELECT ${ident(SEQ)}, ${ident(DECISION)} FROM ${decided}`)).getRowsJson();
        const result = tallyDecisions(decisions.map((d) => ({ index: Number(d[0]), decision: String(d[1]) as Decision })));
        for (let i = 0; i < children.length; i++) {
          const perParent = children[i].rows;
          const rowsOfAccepted = result.accepted.flatMap((index) => [...(perParent[index] ?? [])]);
          const childFile = await this.stage(childCols[i], rowsOfAccepted);
          staged.push(childFile);
          const typed = `_api2lake_typed_${++this.db.staging}`;
          typedChildren.push(typed);
          await c.run(`CREATE TEMP TABLE ${typed} AS SELECT ${castList(childCols[i])} FROM ${readJson(childFile, childCols[i])}`);
        }
        const columnList = cols.map((x) => ident(x.name)).join(", ");
        await inTransaction(c, async () => {
          await c.run(`DELETE FROM ${target} AS ${TARGET} WHERE EXISTS (SELECT 1 FROM ${decided} AS ${SOURCE} WHERE ${SOURCE}.${ident(DECISION)} = 'updated' AND ${keyMatch(keyCols)})`);
          await c.run(`INSERT INTO ${target} (${columnList}) SELECT ${columnList} FROM ${decided} WHERE ${ident(DECISION)} IN ('inserted', 'updated') ORDER BY ${ident(SEQ)}`);
          for (let i = 0; i < children.length; i++) {
            const child = children[i];
            const childTarget = `hub.${ident(child.table.name)}`;
            const cols = childCols[i];
            const parentCols = child.parentKey.map((k) => findColumn(cols, k, `${childTarget} parent key`));
            // The parent's key cast to the child's column type (an undeclared parent key column is VARCHAR).
            const match = parentCols.map((p, j) => `${TARGET}.${ident(p.name)} IS NOT DISTINCT FROM CAST(${SOURCE}.${ident(keyCols[j].name)} AS ${p.type})`).join(" AND ");
            await c.run(`DELETE FROM ${childTarget} AS ${TARGET} WHERE EXISTS (SELECT 1 FROM ${decided} AS ${SOURCE} WHERE ${SOURCE}.${ident(DECISION)} IN ('inserted', 'updated') AND ${match})`);
            const childList = cols.map((x) => ident(x.name)).join(", ");
            await c.run(`INSERT INTO ${childTarget} (${childList}) SELECT ${childList} FROM ${typedChildren[i]}`);
          }
        });
        return result;
      } finally {
        for (const t of [decided, ...typedChildren]) await c.run(`DROP TABLE IF EXISTS ${t}`);
        for (const f of staged) await fs.promises.rm(f, { force: true });
      }
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
          await c.run(`DELETE FROM ${target} AS ${TARGET} WHERE EXISTS (SELECT 1 FROM ${typed} AS ${SOURCE} WHERE ${TARGET}.${p} IS NOT DISTINCT FROM ${SOURCE}.${p})`);
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
    return this.append({ name: `${entity}_error_records`, columns: ERROR_RECORD_COLUMNS }, letters as unknown as Row[], "letter");
  }

  /**
   * Appends the rows not already in `lake.<table>` by an earlier call: `payload` skips a row whose
   * `_payload_hash` the table has (rows without one, or tables without the column, append all);
   * `letter` skips a dead letter with the same stage, error and payload SHA-256.
   */
  private append(table: TableSpec, rows: readonly Row[], identity: "payload" | "letter"): Promise<void> {
    return this.exclusive(async (c) => {
      const cols = await ensureTable(c, "lake", table, rows);
      if (rows.length === 0) return;
      const target = `lake.${ident(table.name)}`;
      const file = await this.stage(cols, rows);
      try {
        const columnList = cols.map((x) => ident(x.name)).join(", ");
        const seen = alreadyAppended(cols, identity);
        await c.run(`INSERT INTO ${target} (${columnList}) SELECT ${columnList} FROM (SELECT ${castList(cols)}, ${ident(SEQ)} FROM ${readJson(file, cols)}) AS ${SOURCE}${seen ? ` WHERE NOT EXISTS (SELECT 1 FROM ${target} AS ${TARGET} WHERE ${seen})` : ""} ORDER BY ${ident(SEQ)}`);
      } finally {
        await fs.promises.rm(file, { force: true });
      }
    });
  }

  query(sql: string): Promise<Row[]> {
    return this.exclusive(async (c) => {
      return rowsOf(await c.runAndReadAll(sql));
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

  /** Stages `rows`, casts them into a typed temp table, and runs `body` in a transaction. */
  private async transaction(c: DuckDBConnection, cols: Column[], rows: readonly Row[], body: (typed: string) => Promise<void>): Promise<void> {
    const file = await this.stage(cols, rows);
    const typed = `_api2lake_typed_${++this.db.staging}`;
    try {
      await c.run(`CREATE TEMP TABLE ${typed} AS SELECT ${castList(cols)}, ${ident(SEQ)} FROM ${readJson(file, cols)}`);
      await inTransaction(c, () => body(typed));
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

/** Runs `body` in a transaction: committed when it resolves, rolled back when it throws. */
async function inTransaction(c: DuckDBConnection, body: () => Promise<void>): Promise<void> {
  await c.run("BEGIN TRANSACTION");
  try {
    await body();
    await c.run("COMMIT");
  } catch (e) {
    await c.run("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** `"target row".k IS NOT DISTINCT FROM "source row".k AND ...` over the key columns. */
function keyMatch(keyCols: Column[]): string {
  return keyCols.map((k) => `${TARGET}.${ident(k.name)} IS NOT DISTINCT FROM ${SOURCE}.${ident(k.name)}`).join(" AND ");
}

/**
 * A SELECT of the staged rows (cast to the table's types) with their seq, their rank within
 * their key (newest first: greatest `orderBy`, nulls last, then the latest in the batch) and
 * their decision against the stored rows (hub-decisions.ts).
 */
function decisionSql(target: string, cols: Column[], keyCols: Column[], order: Column | undefined, hash: Column | undefined, staged: string): string {
  const partition = keyCols.map((k) => ident(k.name)).join(", ");
  const newest = `${order ? `${ident(order.name)} DESC NULLS LAST, ` : ""}${ident(SEQ)} DESC`;
  const ranked = `SELECT ${castList(cols)}, ${ident(SEQ)} FROM ${staged}`;
  const decision = decisionCase({ source: SOURCE, target: TARGET, quote: ident, present: PRESENT, rank: RANK, orderBy: order?.name, payloadHash: hash?.name });
  return `SELECT ${SOURCE}.*, ${decision} AS ${ident(DECISION)}` +
    ` FROM (SELECT *, row_number() OVER (PARTITION BY ${partition} ORDER BY ${newest}) AS ${ident(RANK)} FROM (${ranked})) AS ${SOURCE}` +
    ` LEFT JOIN (SELECT *, TRUE AS ${ident(PRESENT)} FROM ${target}) AS ${TARGET} ON ${keyMatch(keyCols)}`;
}

/** The condition (over `"source row"` and `"target row"`) of a row already appended, or undefined when rows have no identity. */
function alreadyAppended(cols: Column[], identity: "payload" | "letter"): string | undefined {
  const col = (name: string) => cols.find((x) => x.name.toLowerCase() === name);
  if (identity === "payload") {
    const hash = col("_payload_hash");
    return hash ? `${TARGET}.${ident(hash.name)} = ${SOURCE}.${ident(hash.name)}` : undefined;
  }
  const same = (name: string) => `${TARGET}.${ident(name)} IS NOT DISTINCT FROM ${SOURCE}.${ident(name)}`;
  return `${same("stage")} AND ${same("error")} AND sha256(${TARGET}."payload") IS NOT DISTINCT FROM sha256(${SOURCE}."payload")`;
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
/** A query result's rows as plain JS values (see `fromDuck`), keyed by the deduplicated column names. */
export function rowsOf(reader: DuckDBResultReader): Row[] {
  const types = reader.columnTypes();
  const names = reader.deduplicatedColumnNames();
  return reader.getRowsJson().map((values) => {
    const row: Row = {};
    values.forEach((v, i) => (row[names[i]] = fromDuck(v, types[i].typeId, types[i].alias)));
    return row;
  });
}

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
