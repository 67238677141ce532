import * as fs from "fs";
import * as path from "path";
import { ClassicLevel } from "classic-level";
import type { ServingConfig } from "../model/source-config";
import type { ServingRow, ServingStore, ServingWriteResult } from "../model/backends";
import { writeAtomically } from "./lake-local";
import { CELL_ENCODINGS, MAX_ROW_KEY_BYTES, decodeCell, encodeCell } from "./serving-row";
import type { CellEncoding } from "./serving-row";

/**
 * The serving store on the local disk: one LevelDB (classic-level) per table at
 * `<out>/serving/<table>`, keys = row keys (UTF-8, byte order like Bigtable), the value of a row
 * = its cells `family -> qualifier -> [encoding, base64(bytes)]` as JSON, where the bytes are
 * exactly what the Bigtable sink stores (`encodeCell`). `ensureTable` records the families and
 * their GC policy in `<out>/serving/<table>.table.json`.
 *
 * A write merges its cells into the stored row, each cell replacing the stored one unless the
 * stored one has a newer version (`ServingRow.versionMs`, else the write time): the store keeps
 * one version per cell, the newest - what a read with `maxVersions: 1` returns on Bigtable,
 * where the version is the cell timestamp. Bad rows (empty or oversized key, unknown family, a value that does not fit
 * its encoding) are reported in `failed`, the others are written.
 *
 * @example
 * const store = new EmbeddedServingStore("./out");
 * await store.ensureTable({ table: "invoices", rowKey: "{issuer}", families: { f: { maxVersions: 1 } }, columns: {} });
 * await store.write("invoices", [{ key: "acme", cells: { f: { total: { value: 12.5, encoding: "float64" } } } }]);
 * await store.read("invoices", { prefix: "ac", limit: 10 });
 */

type Db = ClassicLevel<Buffer, string>;
/** `family -> qualifier -> [encoding, base64 bytes, version epoch ms]` (no version: stored before versions, oldest). */
type StoredCells = Record<string, Record<string, [CellEncoding, string, number?]>>;

interface TableMeta {
  table: string;
  families: ServingConfig["families"];
}

interface SharedDb {
  db: Db;
  refs: number;
}

const openDbs = new Map<string, Promise<SharedDb>>();

async function acquire(location: string): Promise<SharedDb> {
  let pending = openDbs.get(location);
  if (!pending) {
    pending = (async () => {
      await fs.promises.mkdir(path.dirname(location), { recursive: true });
      const db = new ClassicLevel<Buffer, string>(location, { keyEncoding: "buffer", valueEncoding: "utf8" });
      await db.open();
      return { db: db, refs: 0 };
    })();
    openDbs.set(location, pending);
    pending.catch(() => openDbs.delete(location));
  }
  const shared = await pending;
  shared.refs += 1;
  return shared;
}

async function release(location: string, shared: SharedDb): Promise<void> {
  shared.refs -= 1;
  if (shared.refs > 0) return;
  openDbs.delete(location);
  await shared.db.close();
}

export class EmbeddedServingStore implements ServingStore {
  readonly root: string;
  private readonly tables = new Map<string, { meta: TableMeta; shared: SharedDb; location: string }>();
  private closed = false;

  constructor(out: string) {
    this.root = path.join(path.resolve(out), "serving");
  }

  async ensureTable(config: ServingConfig): Promise<void> {
    checkTableName(config.table);
    const meta: TableMeta = { table: config.table, families: config.families };
    await writeAtomically(this.metaFile(config.table), JSON.stringify(meta, null, 2) + "\n");
    const open = this.tables.get(config.table);
    if (open) open.meta = meta;
    else await this.open(config.table);
  }

  async write(table: string, rows: readonly ServingRow[]): Promise<ServingWriteResult> {
    const t = await this.open(table);
    const failed: ServingWriteResult["failed"] = [];
    const byKey = new Map<string, StoredCells>();
    const now = Date.now();
    for (const row of rows) {
      const cells = encodeRow(row, t.meta, row.versionMs ?? now);
      if (typeof cells === "string") failed.push({ key: typeof row.key === "string" ? row.key : String(row.key), reason: cells });
      else byKey.set(row.key, mergeCells(byKey.get(row.key), cells));
    }
    const keys = [...byKey.keys()].map((k) => Buffer.from(k, "utf8"));
    const before = keys.length ? await t.shared.db.getMany(keys) : [];
    const ops = keys.map((k, i) => {
      const previous = before[i] === undefined ? undefined : (JSON.parse(before[i] as string) as StoredCells);
      return { type: "put" as const, key: k, value: JSON.stringify(mergeCells(previous, byKey.get(k.toString("utf8"))!)) };
    });
    if (ops.length) await t.shared.db.batch(ops);
    return { written: rows.length - failed.length, failed: failed };
  }

  async read(table: string, options: { prefix?: string; limit?: number } = {}): Promise<ServingRow[]> {
    const t = await this.open(table);
    const range: { gte?: Buffer; lt?: Buffer; limit?: number } = {};
    if (options.prefix) {
      const start = Buffer.from(options.prefix, "utf8");
      range.gte = start;
      const end = prefixEnd(start);
      if (end) range.lt = end;
    }
    if (options.limit !== undefined) range.limit = options.limit;
    const entries = await t.shared.db.iterator(range).all();
    return entries.map((entry) => decodeRow(entry[0].toString("utf8"), entry[1]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = [...this.tables.values()];
    this.tables.clear();
    for (const t of open) await release(t.location, t.shared);
  }

  private metaFile(table: string): string {
    return path.join(this.root, `${table}.table.json`);
  }

  private async open(table: string): Promise<{ meta: TableMeta; shared: SharedDb; location: string }> {
    if (this.closed) throw new Error("serving store is closed");
    checkTableName(table);
    const known = this.tables.get(table);
    if (known) return known;
    let meta: TableMeta;
    try {
      meta = JSON.parse(await fs.promises.readFile(this.metaFile(table), "utf8")) as TableMeta;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw noSuchTable(table, this.root);
      throw e;
    }
    const location = path.join(this.root, table);
    const shared = await acquire(location);
    const raced = this.tables.get(table);
    if (raced) {
      await release(location, shared);
      return raced;
    }
    const entry = { meta: meta, shared: shared, location: location };
    this.tables.set(table, entry);
    return entry;
  }
}

function checkTableName(table: string): void {
  if (typeof table !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(table) || table.includes(".."))
    throw new Error(`serving table name must be letters, digits, _ . -: ${JSON.stringify(table)}`);
}

/** The row's cells encoded for storage, or the reason it cannot be written. */
function encodeRow(row: ServingRow, meta: TableMeta, versionMs: number): StoredCells | string {
  if (typeof row.key !== "string" || row.key.length === 0) return "row key is empty";
  if (Buffer.byteLength(row.key, "utf8") > MAX_ROW_KEY_BYTES) return `row key is longer than ${MAX_ROW_KEY_BYTES} bytes`;
  const out: StoredCells = {};
  let count = 0;
  for (const family of Object.keys(row.cells ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(meta.families, family)) return `unknown column family "${family}" (table has ${Object.keys(meta.families).join(", ")})`;
    for (const qualifier of Object.keys(row.cells[family])) {
      const cell = row.cells[family][qualifier];
      if (!(CELL_ENCODINGS as readonly string[]).includes(cell.encoding)) return `${family}:${qualifier}: unknown encoding ${JSON.stringify(cell.encoding)}`;
      const bytes = encodeCell(cell.value, cell.encoding);
      if (!bytes.ok) return `${family}:${qualifier}: ${bytes.reason}`;
      (out[family] ?? (out[family] = {}))[qualifier] = [cell.encoding, Buffer.from(bytes.value).toString("base64"), versionMs];
      count += 1;
    }
  }
  if (count === 0) return "row has no cells";
  return out;
}

/** The stored cells with `next`'s cells merged in, a cell by cell: the newer version wins, `next` on a tie (as Bigtable). */
function mergeCells(previous: StoredCells | undefined, next: StoredCells): StoredCells {
  if (!previous) return next;
  const merged: StoredCells = { ...previous };
  for (const family of Object.keys(next)) {
    const cells = { ...(previous[family] ?? {}) };
    for (const qualifier of Object.keys(next[family])) {
      const old = cells[qualifier];
      const cell = next[family][qualifier];
      if (old === undefined || (old[2] ?? 0) <= (cell[2] ?? 0)) cells[qualifier] = cell;
    }
    merged[family] = cells;
  }
  return merged;
}

function decodeRow(key: string, value: string): ServingRow {
  const stored = JSON.parse(value) as StoredCells;
  const cells: ServingRow["cells"] = {};
  for (const family of Object.keys(stored)) {
    cells[family] = {};
    for (const qualifier of Object.keys(stored[family])) {
      const cell = stored[family][qualifier];
      cells[family][qualifier] = { value: decodeCell(Buffer.from(cell[1], "base64"), cell[0]), encoding: cell[0] };
    }
  }
  return { key: key, cells: cells };
}

/** The smallest key greater than every key starting with `prefix`, or undefined if there is none. */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/**
 * The error for a table the store does not hold: `code` "NO_SUCH_TABLE" (the CLI turns it into a
 * usage error), the message lists the tables that exist (`<name>.table.json` files in `root`).
 */
function noSuchTable(table: string, root: string): Error {
  const tables = fs.existsSync(root) ? fs.readdirSync(root).filter((f) => f.endsWith(".table.json")).map((f) => f.slice(0, -".table.json".length)) : [];
  const known = tables.length ? `tables there: ${tables.sort().join(", ")}` : "none there yet: a run with `serving:` entities creates them";
  return Object.assign(new Error(`serving table "${table}" does not exist in ${root} (${known})`), { code: "NO_SUCH_TABLE" });
}
