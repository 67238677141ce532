import { Bigtable } from "@google-cloud/bigtable";
import type { Instance, Table } from "@google-cloud/bigtable";
import type { ServingRow, ServingStore, ServingWriteResult } from "../model/backends";
import type { ServingConfig } from "../model/source-config";
import { CELL_ENCODINGS, decodeCell, encodeCell, parseColumns } from "./serving-row";
import type { CellEncoding } from "./serving-row";
import { isTransient, retrying, withTimeout } from "./gcp-retry";

/**
 * The serving store in Bigtable. Cells hold the bytes of `serving-row.ts`'s encodings (int64
 * and float64 8-byte big-endian, bool one byte, string/json UTF-8), so other Bigtable readers
 * (cbt, HBase clients) read them as usual. Bigtable does not keep a cell's type, so each table's
 * `family:qualifier -> encoding` map is kept in the table `api2lake_serving_schema` (row key =
 * table name, family `e`), written by `ensureTable` and by `write` for new columns; `read`
 * decodes with it (a cell with no recorded encoding reads as a string).
 *
 * - `ensureTable` creates the table and any missing column family with the config's GC policy
 *   (`maxVersions`, `maxAgeDays`: a cell is collected when either is exceeded).
 * - `write` sends mutateRows batches of at most `batchRows` rows; entries failing with a
 *   transient status are retried `maxAttempts` times in all; rows that still fail (or whose
 *   values cannot take their encoding) are returned in `failed` with the reason, the rest are
 *   written. A request that cannot reach Bigtable at all rejects after the bounded retries.
 * - Cells are written with the row's `versionMs` (the entity's `orderBy` instant) as their
 *   timestamp, in micros (the write time when absent; at least 1 ms, as the client reads 0 as
 *   "server time"), so an older version written later never shadows a newer one. A family's
 *   `maxAgeDays` then counts from that instant.
 * - `read` returns the newest version (greatest timestamp) of every cell, in key order.
 * The client is created on first use (with `metricsEnabled: false`), never captured; against
 * the emulator set `BIGTABLE_EMULATOR_HOST`.
 *
 * @example
 * const store = new BigtableServingStore({ projectId: "acme", instanceId: "serving" });
 * await store.ensureTable({ table: "invoices", rowKey: "{issuer}", families: { f: { maxVersions: 1 } }, columns: { total: "f:total:float64" } });
 * await store.write("invoices", [{ key: "acme", cells: { f: { total: { value: 12.5, encoding: "float64" } } } }]);
 * await store.read("invoices", { prefix: "ac", limit: 10 });
 */
export interface BigtableServingStoreOptions {
  projectId: string;
  instanceId: string;
  /** Rows per mutateRows request (default 1000; Bigtable allows 100 000 mutations per request). */
  batchRows?: number;
  /** Attempts per request on transient errors (default 4). */
  maxAttempts?: number;
  /** Ceiling for one request, in ms (default 60 000). */
  timeoutMs?: number;
}

export const SCHEMA_TABLE = "api2lake_serving_schema";
const SCHEMA_FAMILY = "e";

type Encodings = Map<string, CellEncoding>;

export class BigtableServingStore implements ServingStore {
  readonly options: Readonly<BigtableServingStoreOptions>;
  private client: Bigtable | undefined;
  private readonly encodings = new Map<string, Encodings>();
  private schemaReady: Promise<void> | undefined;

  constructor(options: BigtableServingStoreOptions) {
    if (!options.projectId || !options.instanceId) throw new Error("Bigtable serving store needs projectId and instanceId");
    this.options = Object.freeze({ ...options });
  }

  private get instance(): Instance {
    if (!this.client) this.client = new Bigtable({ projectId: this.options.projectId, metricsEnabled: false } as never);
    return this.client.instance(this.options.instanceId);
  }

  private table(name: string): Table {
    const t = this.instance.table(name);
    // The client's own retries, bounded; ours wrap them.
    (t as unknown as { maxRetries: number }).maxRetries = 2;
    return t;
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retrying(what, fn, { maxAttempts: this.options.maxAttempts ?? 4, timeoutMs: this.timeoutMs });
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 60_000;
  }

  async ensureTable(config: ServingConfig): Promise<void> {
    const families = Object.keys(config.families);
    if (families.length === 0) throw new Error(`serving table ${config.table}: no column families`);
    const columns = parseColumns(config.columns);
    for (const c of columns)
      if (!families.includes(c.family)) throw new Error(`serving column "${c.field}": family "${c.family}" is not declared (families: ${families.join(", ")})`);
    await this.createTable(config.table, families.map((f) => ({ name: f, rule: gcRule(config.families[f]) })));
    const enc: Encodings = new Map();
    for (const c of columns) enc.set(`${c.family}:${c.qualifier}`, c.encoding);
    await this.recordEncodings(config.table, enc);
  }

  async write(table: string, rows: readonly ServingRow[]): Promise<ServingWriteResult> {
    const failed: ServingWriteResult["failed"] = [];
    const entries: Entry[] = [];
    const seen: Encodings = new Map();
    const now = Date.now();
    for (const row of rows) {
      // Cell timestamps are micros at ms granularity; a read with cellLimit 1 returns the greatest.
      // The client sends 0 as "server time", so the oldest version (a null orderBy) is 1 ms.
      const problem = encodeRow(row, Math.max(1, Math.trunc(row.versionMs ?? now)) * 1000, seen);
      if (typeof problem === "string") failed.push({ key: row.key, reason: problem });
      else entries.push(problem);
    }
    if (seen.size) await this.recordEncodings(table, seen);
    const batch = this.options.batchRows ?? 1000;
    const t = this.table(table);
    let written = 0;
    const maxAttempts = this.options.maxAttempts ?? 4;
    for (let start = 0; start < entries.length; start += batch) {
      let pending = entries.slice(start, start + batch);
      let attempt = 0;
      while (pending.length > 0) {
        attempt++;
        const sending = pending;
        const failures = await this.retry(`mutateRows on ${table}`, () => mutateCollectingFailures(t, sending));
        const again: Entry[] = [];
        for (const f of failures) {
          if (attempt < maxAttempts && isTransient({ code: f.code })) again.push(f.entry);
          else failed.push({ key: f.entry.key, reason: `Bigtable refused the row: ${f.message} (code ${f.code})` });
        }
        written += sending.length - failures.length;
        pending = again;
      }
    }
    return { written: written, failed: failed };
  }

  async read(table: string, options: { prefix?: string; limit?: number } = {}): Promise<ServingRow[]> {
    const enc = await this.loadEncodings(table);
    const t = this.table(table);
    const got = await this.retry(`readRows on ${table}`, () =>
      t.getRows({
        prefix: options.prefix || undefined,
        limit: options.limit,
        decode: false,
        filter: { column: { cellLimit: 1 } },
      } as never),
    );
    const rows = (got[0] as unknown as { id: Buffer | string; data: Record<string, Record<string, { value: Buffer | number }[]>> }[]).map((r) => {
      const cells: ServingRow["cells"] = {};
      for (const family of Object.keys(r.data)) {
        for (const qualifier of Object.keys(r.data[family])) {
          const versions = r.data[family][qualifier];
          if (!versions.length) continue;
          const encoding = enc.get(`${family}:${qualifier}`) ?? "string";
          (cells[family] ?? (cells[family] = {}))[qualifier] = { value: decodeCell(cellBytes(versions[0].value), encoding), encoding: encoding };
        }
      }
      return { key: Buffer.isBuffer(r.id) ? r.id.toString("utf8") : String(r.id), cells: cells };
    });
    return rows.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await withTimeout(c.close(), 10_000, "closing the Bigtable client").catch(() => undefined);
  }

  private async createTable(name: string, families: { name: string; rule: Record<string, unknown> }[]): Promise<void> {
    const t = this.table(name);
    const exists = (await this.retry(`check table ${name}`, () => t.exists()))[0];
    if (!exists) {
      await this.retry(`create table ${name}`, async () => {
        try {
          await t.create({ families: families } as never);
        } catch (e) {
          if ((e as { code?: number }).code !== 6) throw e; // ALREADY_EXISTS: created concurrently
        }
      });
    }
    const have = new Set((await this.retry(`list families of ${name}`, () => t.getFamilies()))[0].map((f) => f.id));
    for (const f of families) {
      if (have.has(f.name)) continue;
      await this.retry(`create family ${name}:${f.name}`, async () => {
        try {
          await t.createFamily(f.name, { rule: f.rule } as never);
        } catch (e) {
          if ((e as { code?: number }).code !== 6) throw e;
        }
      });
    }
  }

  private async recordEncodings(table: string, enc: Encodings): Promise<void> {
    const known = this.encodings.get(table);
    const fresh = [...enc].filter((e) => known?.get(e[0]) !== e[1]);
    if (!fresh.length) return;
    if (!this.schemaReady) {
      this.schemaReady = this.createTable(SCHEMA_TABLE, [{ name: SCHEMA_FAMILY, rule: { versions: 1 } }]);
      this.schemaReady.catch(() => (this.schemaReady = undefined));
    }
    await this.schemaReady;
    const data: Record<string, Buffer> = {};
    for (const e of fresh) data[e[0]] = Buffer.from(e[1]);
    const failures = await this.retry(`record encodings of ${table}`, () =>
      mutateCollectingFailures(this.table(SCHEMA_TABLE), [{ key: table, method: "insert", data: { [SCHEMA_FAMILY]: wrapCells(data) } }]),
    );
    if (failures.length) throw new Error(`recording the cell encodings of ${table} failed: ${failures[0].message}`);
    const merged: Encodings = new Map(known ?? []);
    for (const e of fresh) merged.set(e[0], e[1]);
    this.encodings.set(table, merged);
  }

  private async loadEncodings(table: string): Promise<Encodings> {
    if (!this.schemaReady) {
      this.schemaReady = this.createTable(SCHEMA_TABLE, [{ name: SCHEMA_FAMILY, rule: { versions: 1 } }]);
      this.schemaReady.catch(() => (this.schemaReady = undefined));
    }
    await this.schemaReady;
    const got = await this.retry(`read encodings of ${table}`, () =>
      this.table(SCHEMA_TABLE).getRows({ keys: [table], decode: false, filter: { column: { cellLimit: 1 } } } as never),
    );
    const enc: Encodings = new Map(this.encodings.get(table) ?? []);
    const rows = got[0] as unknown as { data: Record<string, Record<string, { value: Buffer }[]>> }[];
    for (const r of rows) {
      const fam = r.data[SCHEMA_FAMILY] ?? {};
      for (const q of Object.keys(fam)) {
        const raw = fam[q][0]?.value as Buffer | number | undefined;
        const v = raw === undefined ? undefined : cellBytes(raw).toString("utf8");
        if (v && (CELL_ENCODINGS as readonly string[]).includes(v)) enc.set(q, v as CellEncoding);
      }
    }
    this.encodings.set(table, enc);
    return enc;
  }
}

/**
 * The cell's bytes. Even with `decode: false` the client turns any 8-byte value that reads as a
 * safe big-endian int64 into a number; this turns it back (the conversion is exact).
 */
function cellBytes(value: Buffer | number): Buffer {
  if (typeof value !== "number") return value;
  const buf = Buffer.alloc(8);
  buf.writeBigInt64BE(BigInt(value));
  return buf;
}

/** GC rule of a family: versions and/or age, collected when either limit is exceeded. */
function gcRule(policy: { maxVersions?: number; maxAgeDays?: number }): Record<string, unknown> {
  const rule: Record<string, unknown> = { versions: policy.maxVersions ?? 1 };
  if (policy.maxAgeDays !== undefined) {
    rule.age = { seconds: Math.round(policy.maxAgeDays * 86_400) };
    rule.union = true;
  }
  return rule;
}

type Entry = { key: string; method: "insert"; data: Record<string, Record<string, { value: Buffer; timestamp: number }>> };

/** Encodes a serving row into a mutation entry, or says why it cannot be written. */
function encodeRow(row: ServingRow, timestampMicros: number, seen: Encodings): Entry | string {
  if (typeof row.key !== "string" || row.key.length === 0) return "row key is empty";
  if (Buffer.byteLength(row.key) > 4096) return "row key is longer than 4096 bytes";
  const data: Entry["data"] = {};
  let cells = 0;
  for (const family of Object.keys(row.cells)) {
    for (const qualifier of Object.keys(row.cells[family])) {
      const cell = row.cells[family][qualifier];
      if (!(CELL_ENCODINGS as readonly string[]).includes(cell.encoding)) return `${family}:${qualifier}: unknown encoding ${JSON.stringify(cell.encoding)}`;
      if (cell.value === null || cell.value === undefined) continue;
      const bytes = encodeCell(cell.value, cell.encoding);
      if (!bytes.ok) return `${family}:${qualifier}: ${bytes.reason}`;
      (data[family] ?? (data[family] = {}))[qualifier] = { value: Buffer.from(bytes.value), timestamp: timestampMicros };
      seen.set(`${family}:${qualifier}`, cell.encoding);
      cells++;
    }
  }
  if (cells === 0) return "row has no cells";
  return { key: row.key, method: "insert", data: data };
}

function wrapCells(data: Record<string, Buffer>): Record<string, { value: Buffer }> {
  const out: Record<string, { value: Buffer }> = {};
  for (const q of Object.keys(data)) out[q] = { value: data[q] };
  return out;
}

interface EntryFailure<E> {
  entry: E;
  code: number | undefined;
  message: string;
}

/** mutateRows; per-entry failures are returned, a failure of the whole request is thrown. */
async function mutateCollectingFailures<E extends { key: string }>(table: Table, entries: E[]): Promise<EntryFailure<E>[]> {
  try {
    await table.mutate(entries as never);
    return [];
  } catch (e) {
    const err = e as { name?: string; errors?: { entry?: E; code?: number; message?: string }[] };
    if (err.name !== "PartialFailureError" || !Array.isArray(err.errors)) throw e;
    return err.errors.map((x) => ({
      entry: (x.entry ?? entries.find((en) => en.key === (x as { entry?: { key?: string } }).entry?.key)) as E,
      code: x.code,
      message: x.message ?? "unknown error",
    }));
  }
}
