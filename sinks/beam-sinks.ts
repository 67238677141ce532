import * as crypto from "crypto";
import { parDo, withName, groupBy, windowParam, timestampParam, paneInfoParam } from "apache-beam";
import type { PCollection } from "apache-beam";
import type { Instant, PaneInfo, Window, WindowedValue } from "apache-beam/values";
import type { ParDoLookupParam, SideInputParam } from "apache-beam/transforms/pardo";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { ColumnSpec, HubChildBatch, HubMergeResult, LakeLayer, SinkTarget, TableSpec } from "../model/backends";
import type { ServingConfig } from "../model/source-config";
import { openLake, openServingStore, openWarehouse } from "./open-backends";
import { buildServingRow, formatUtc, toEpochMillis } from "./serving-row";
import { paneWriter } from "./pane-writer";

/**
 * Beam sinks: thin DoFns that buffer the rows of a bundle and write them through the backend
 * that a plain `SinkTarget` names, opened on the worker when a batch is flushed (never a
 * captured client). Each write emits `SinkReport`s so a run can count what landed where.
 *
 * The DoFns capture only plain data and the `flush*` functions below, which this module
 * registers for serialization; on a remote worker it is required as
 * `api2lake/dist/sinks/beam-sinks` (the project package must expose that path).
 *
 * @example
 * const target = { kind: "local", out: "./out" } as const;
 * rows.apply(writeLake(target, "raw", "customers", runId, { dateField: "_ingested_at" }));
 * records.apply(writeHub(target, customersSpec, [])); // emits the accepted records, then its counts
 * clean.apply(writeServing(target, servingConfig));
 * // the run's commit stage (pipeline/commit-stage.ts), fed by every sink's reports, then runs:
 * await commitLake(target, runId);
 */

export interface SinkReport {
  sink: "lake" | "warehouse" | "serving";
  /** Lake object path, `schema.table`, or serving table. */
  location: string;
  /** Rows written (for the lake: still pending until `commitLake`). */
  written: number;
  /** Rows refused as bad input (serving rows only; other sinks throw), with the reason. */
  failed: { key?: string; reason: string; row: Row }[];
}

export type WarehouseWriteMode = "lake" | "dataproduct";

export interface SinkOptions {
  /**
   * Rows buffered before a write inside the bundle (default 20 000, as the direct runner's spill
   * threshold: with two writes in flight a writer holds at most 60 000 rows; at 1M records a table
   * gets 50 BigQuery load jobs per run, under the 1,500 per table per day of hourly runs).
   */
  maxBufferRows?: number;
}

/** A singleton side input of typed columns decided inside the graph (e.g. the run's schema plan). */
export type ColumnsSideInput = SideInputParam<ColumnSpec[], Iterable<ColumnSpec[]>, ColumnSpec[]>;

export interface WarehouseSinkOptions extends SinkOptions {
  /** Columns added to the table spec at write time, typed (spec columns with the same name win). */
  columns?: ColumnsSideInput;
}

export interface LakeSinkOptions extends SinkOptions {
  /** Field whose date gives the `dt=` partition (default `_ingested_at`); rows without one land under today's date (UTC). */
  dateField?: string;
}

const DEFAULT_BUFFER_ROWS = 20_000;

// --- runtime (runs on the worker; registered below, so DoFns reference it by name) ---------

export interface LakeSinkSpec {
  target: SinkTarget;
  layer: LakeLayer;
  entity: string;
  runId: string;
  dateField: string;
}

/** Writes one pending shard per `dt` present in `rows`; shard ids are `<bundleId>-<seq>-<n>`. */
export function flushLake(spec: LakeSinkSpec, rows: readonly Row[], shardBase: string): Promise<SinkReport[]> {
  return naming(`lake (${spec.target.kind === "gcp" ? "Cloud Storage" : "local folder"}) ${spec.layer}/${spec.entity}`, writeLakeRows(spec, rows, shardBase));
}

async function writeLakeRows(spec: LakeSinkSpec, rows: readonly Row[], shardBase: string): Promise<SinkReport[]> {
  if (rows.length === 0) return [];
  const byDt = new Map<string, Row[]>();
  const today = formatUtc(Date.now(), "yyyy-MM-dd");
  for (const row of rows) {
    const ms = toEpochMillis(row[spec.dateField]);
    const dt = ms.ok ? formatUtc(ms.value, "yyyy-MM-dd") : today;
    const list = byDt.get(dt);
    if (list) list.push(row);
    else byDt.set(dt, [row]);
  }
  const lake = await openLake(spec.target);
  const reports: SinkReport[] = [];
  let n = 0;
  for (const entry of byDt) {
    const location = await lake.writeShard({ layer: spec.layer, entity: spec.entity, dt: entry[0], runId: spec.runId, shard: `${shardBase}-${n++}`, rows: entry[1] });
    reports.push({ sink: "lake", location: location, written: entry[1].length, failed: [] });
  }
  return reports;
}

export interface WarehouseSinkSpec {
  target: SinkTarget;
  mode: WarehouseWriteMode | "errors";
  table: TableSpec;
  /** For `errors`: the entity whose `lake.<entity>_error_records` receives the dead letters. */
  entity?: string;
}

export function flushWarehouse(spec: WarehouseSinkSpec, rows: readonly Row[], columns?: readonly ColumnSpec[]): Promise<SinkReport[]> {
  if (columns && columns.length) {
    const have = new Set(spec.table.columns.map((c) => c.name.toLowerCase()));
    const extra = columns.filter((c) => !have.has(c.name.toLowerCase()));
    spec = { ...spec, table: { ...spec.table, columns: [...spec.table.columns, ...extra] } };
  }
  return naming(`warehouse (${spec.target.kind === "gcp" ? "BigQuery" : "DuckDB"}) ${spec.mode} ${spec.table.name}`, writeWarehouseRows(spec, rows));
}

async function writeWarehouseRows(spec: WarehouseSinkSpec, rows: readonly Row[]): Promise<SinkReport[]> {
  if (rows.length === 0) return [];
  const warehouse = await openWarehouse(spec.target);
  try {
    let location: string;
    switch (spec.mode) {
      case "lake":
        await warehouse.appendLake(spec.table, rows);
        location = `lake.${spec.table.name}`;
        break;
      case "dataproduct":
        await warehouse.replaceDataProduct(spec.table, rows);
        location = `dataproducts.${spec.table.name}`;
        break;
      case "errors":
        await warehouse.writeErrors(spec.entity ?? spec.table.name, rows as unknown as DeadLetter[]);
        location = `lake.${spec.entity ?? spec.table.name}_error_records`;
        break;
      default:
        throw new Error(`unknown warehouse write mode ${JSON.stringify(spec.mode)}`);
    }
    return [{ sink: "warehouse", location: location, written: rows.length, failed: [] }];
  } finally {
    await warehouse.close();
  }
}

/** A cleaned record on its way to the hub, with its exploded children (child column -> rows). */
export interface HubRecord {
  row: Row;
  children: Record<string, Row[]>;
}

/**
 * What the hub writer emits: each record the merge accepted (a newer or first version), and once
 * per merge its counts - present even when nothing was accepted, so later stages (data products)
 * know the merge finished.
 */
export type HubWriteResult = { accepted: HubRecord } | { merged: Omit<HubMergeResult, "accepted"> };

export interface HubChildSpec {
  /** The key of `HubRecord.children` holding this table's rows. */
  column: string;
  table: TableSpec;
  /** The child's parent-key columns, aligned with the parent table's `primaryKey`. */
  parentKey: readonly string[];
}

export interface HubSinkSpec {
  target: SinkTarget;
  table: TableSpec;
  children: readonly HubChildSpec[];
}

/** Merges records (and their children) into the hub; returns what the merge did (indexes into `records`). */
export function flushHub(spec: HubSinkSpec, records: readonly HubRecord[]): Promise<HubMergeResult> {
  return naming(`warehouse (${spec.target.kind === "gcp" ? "BigQuery" : "DuckDB"}) hub ${spec.table.name}`, mergeHubRecords(spec, records));
}

async function mergeHubRecords(spec: HubSinkSpec, records: readonly HubRecord[]): Promise<HubMergeResult> {
  const children: HubChildBatch[] = spec.children.map((c) => ({ table: c.table, parentKey: c.parentKey, rows: records.map((r) => r.children[c.column] ?? []) }));
  const warehouse = await openWarehouse(spec.target);
  try {
    return await warehouse.mergeHub(spec.table, records.map((r) => r.row), children);
  } finally {
    await warehouse.close();
  }
}

export interface ServingSinkSpec {
  target: SinkTarget;
  config: ServingConfig;
  /** The entity's `orderBy`: each row's version (cell timestamp) comes from it. */
  orderBy?: string;
}

/** Builds serving rows (row-key template + columns) and writes them; bad rows are reported, not thrown. */
export function flushServing(spec: ServingSinkSpec, rows: readonly Row[]): Promise<SinkReport[]> {
  return naming(`serving store (${spec.target.kind === "gcp" ? "Bigtable" : "embedded"}) ${spec.config.table}`, writeServingRows(spec, rows));
}

async function writeServingRows(spec: ServingSinkSpec, rows: readonly Row[]): Promise<SinkReport[]> {
  if (rows.length === 0) return [];
  const failed: SinkReport["failed"] = [];
  const built: { key: string; row: Row }[] = [];
  const servingRows = [];
  for (const row of rows) {
    const r = buildServingRow(row, spec.config, spec.orderBy);
    if (r.ok) {
      built.push({ key: r.value.key, row: row });
      servingRows.push(r.value);
    } else failed.push({ reason: r.reason, row: row });
  }
  const store = await openServingStore(spec.target);
  try {
    await store.ensureTable(spec.config);
    const result = servingRows.length ? await store.write(spec.config.table, servingRows) : { written: 0, failed: [] };
    const rowOf = new Map(built.map((b) => [b.key, b.row] as [string, Row]));
    for (const f of result.failed) failed.push({ key: f.key, reason: f.reason, row: rowOf.get(f.key) ?? { key: f.key } });
    return [{ sink: "serving", location: spec.config.table, written: result.written, failed: failed }];
  } finally {
    await store.close();
  }
}

/** A failed write says which backend and table failed, so a failed run's message is actionable. */
async function naming<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

/** A random id for the shards of one bundle. */
export function newBundleId(): string {
  return crypto.randomBytes(6).toString("hex");
}

// --- DoFns and transforms ------------------------------------------------------------------

interface BufferState {
  rows: Row[];
  seq: number;
  bundleId: string;
  /** Window, timestamp and pane of the last buffered row: the end-of-bundle reports carry them. */
  last: { windows: Window[]; timestamp: Instant; pane: PaneInfo } | undefined;
  /** The columns side input's value, read with the first row (finishBundle cannot read side inputs). */
  columns: ColumnSpec[] | undefined;
}

interface WindowContext {
  window: ParDoLookupParam<Window>;
  timestamp: ParDoLookupParam<Instant>;
  pane: ParDoLookupParam<PaneInfo>;
  columns?: ColumnsSideInput;
}

type Flush = (rows: Row[], shardBase: string, columns?: ColumnSpec[]) => Promise<SinkReport[]>;

/** A DoFn that buffers rows and hands each batch to `flush` (inside the bundle when full, and at its end). */
function bufferingWriter(flush: Flush, maxBufferRows: number, columns?: ColumnsSideInput) {
  return parDo<Row, SinkReport, WindowContext>(
    {
      // A flush is in flight while the next batch fills; a third waits for the first to land, so a
      // writer holds at most two batches (the default of 16 in flight let batches pile up behind
      // a slow warehouse: heap snapshots showed every pending batch's rows retained).
      maxConcurrency: 2,
      startBundle: function (this: BufferState) {
        this.rows = [];
        this.seq = 0;
        this.bundleId = newBundleId();
        this.last = undefined;
      },
      process: function (this: BufferState, row: Row, context: WindowContext) {
        if (context.columns && this.columns === undefined) this.columns = context.columns.lookup();
        this.rows.push(row);
        this.last = { windows: [context.window.lookup()], timestamp: context.timestamp.lookup(), pane: context.pane.lookup() };
        if (this.rows.length < maxBufferRows) return undefined;
        const batch = this.rows;
        this.rows = [];
        return flush(batch, `${this.bundleId}-${this.seq++}`, this.columns);
      },
      finishBundle: async function (this: BufferState) {
        const batch = this.rows;
        const last = this.last;
        this.rows = [];
        if (batch.length === 0 || last === undefined) return [];
        const reports = await flush(batch, `${this.bundleId}-${this.seq++}`, this.columns);
        return reports.map((report): WindowedValue<SinkReport> => ({ value: report, windows: last.windows, timestamp: last.timestamp, pane: last.pane }));
      },
    },
    columns
      ? { window: windowParam(), timestamp: timestampParam(), pane: paneInfoParam(), columns: columns }
      : { window: windowParam(), timestamp: timestampParam(), pane: paneInfoParam() },
  );
}

/** Per bundle (bounded graphs), or per window pane when the target is a streaming job's. */
function writerFor(target: SinkTarget, flush: Flush, maxBufferRows: number, columns?: ColumnsSideInput) {
  if (target.kind === "gcp" && target.perWindow) return withName("PerPane", paneWriter(flush, columns));
  return bufferingWriter(flush, maxBufferRows, columns);
}

/**
 * Writes rows as NDJSON shards of `<layer>/<entity>/dt=YYYY-MM-DD/<runId>-<shard>.ndjson`, pending
 * until `commitLake(target, runId)` runs after the pipeline succeeded.
 */
export function writeLake(target: SinkTarget, layer: LakeLayer, entity: string, runId: string, options: LakeSinkOptions = {}) {
  const spec: LakeSinkSpec = Object.freeze({ target: target, layer: layer, entity: entity, runId: runId, dateField: options.dateField ?? "_ingested_at" });
  const max = options.maxBufferRows ?? DEFAULT_BUFFER_ROWS;
  return withName(`WriteLake(${layer}/${entity})`, (input: PCollection<Row>): PCollection<SinkReport> =>
    input.apply(writerFor(target, (rows: Row[], shardBase: string) => flushLake(spec, rows, shardBase), max)));
}

/**
 * Loads rows into the warehouse: `lake` appends (rows already there skipped, see
 * `Warehouse.appendLake`), `dataproduct` replaces partitions (the hub is `writeHub`'s). For `dataproduct` the rows are first grouped by partition value (the
 * whole collection is one group when unpartitioned), so each partition is replaced once, with
 * all its rows, whatever the bundles; an empty collection leaves the table as it was.
 */
export function writeWarehouse(target: SinkTarget, mode: WarehouseWriteMode, table: TableSpec, options: WarehouseSinkOptions = {}) {
  const spec: WarehouseSinkSpec = Object.freeze({ target: target, mode: mode, table: table });
  const max = options.maxBufferRows ?? DEFAULT_BUFFER_ROWS;
  const schema = mode === "dataproduct" ? "dataproducts" : mode;
  return withName(`WriteWarehouse(${schema}.${table.name})`, (input: PCollection<Row>): PCollection<SinkReport> => {
    if (mode !== "dataproduct") return input.apply(writerFor(target, (rows: Row[], _shard: string, columns?: ColumnSpec[]) => flushWarehouse(spec, rows, columns), max, options.columns));
    const part = table.partitionColumn;
    return input
      .apply(withName("GroupPartitions", groupBy((row: Row) => (part === undefined ? "" : String(row[part] ?? "")))))
      .apply(withName("ReplacePartitions", parDo({
        process: async function (group: { key: string; value: Iterable<Row> }) {
          return flushWarehouse(spec, [...group.value]);
        },
      })));
  });
}

/**
 * Merges records into `hub.<table>` and their children into the child tables (see
 * `Warehouse.mergeHub`: versions only move forward), in batches of `maxBufferRows`; emits the
 * records the hub accepted (inserted or updated), so later layers see only versions the hub
 * kept, and then once the merge's counts (`{ merged }`: the commit stage counts from it). The
 * records are gathered into one group first, so the counts and the accepted set do not
 * depend on how the runner cut bundles.
 */
export function writeHub(
  target: SinkTarget, table: TableSpec, children: readonly HubChildSpec[],
  options: SinkOptions & { columns?: ColumnsSideInput } = {},
) {
  const spec: HubSinkSpec = Object.freeze({ target: target, table: table, children: children });
  const max = options.maxBufferRows ?? DEFAULT_BUFFER_ROWS;
  const params: Record<string, unknown> = {};
  if (options.columns) params.columns = options.columns;
  return withName(`WriteHub(hub.${table.name})`, (input: PCollection<HubRecord>): PCollection<HubWriteResult> =>
    input
      .apply(withName("GatherHubRecords", groupBy((_: HubRecord) => "")))
      .apply(withName("MergeHub", parDo({
        process: function (group: { key: string; value: Iterable<HubRecord> }, ctx: HubContext) {
          // Undeclared columns typed by the run's schema plan (declared ones are in the table spec).
          // Read here: the context is gone once the merge below starts.
          const extra = ctx.columns ? ctx.columns.lookup() : [];
          const have = new Set(spec.table.columns.map((c) => c.name.toLowerCase()));
          const added = extra.filter((c) => !have.has(c.name.toLowerCase()));
          const typed = added.length ? { ...spec, table: { ...spec.table, columns: [...spec.table.columns, ...added] } } : spec;
          return mergeHubBatches(typed, group.value, max);
        },
      }, params as never))));
}

/**
 * Merges `records` (iterated once, lazily: a spilled group is read from disk as it goes) into the
 * hub in batches of `max` records through `flushHub`, yielding each batch's accepted records
 * (`{ accepted }`) before reading the next batch, then `{ merged }` with the totals last; so at
 * most one batch is held. Errors of `flushHub` reject the iteration (the run fails, as before).
 * An async generator cannot be serialized as a DoFn closure; this module function is registered
 * below and referenced by name (runs on the direct runner and on portable workers).
 */
export async function* mergeHubBatches(
  spec: HubSinkSpec, records: Iterable<HubRecord>, max: number,
): AsyncGenerator<HubWriteResult> {
  const totals = { inserted: 0, updated: 0, unchanged: 0, olderIgnored: 0 };
  let batch: HubRecord[] = [];
  const mergeBatch = async (): Promise<HubRecord[]> => {
    const merging = batch;
    batch = [];
    const result = await flushHub(spec, merging);
    totals.inserted += result.inserted;
    totals.updated += result.updated;
    totals.unchanged += result.unchanged;
    totals.olderIgnored += result.olderIgnored;
    return result.accepted.map((index) => merging[index]);
  };
  for (const record of records) {
    batch.push(record);
    if (batch.length < max) continue;
    for (const accepted of await mergeBatch()) yield { accepted: accepted };
  }
  if (batch.length > 0) {
    for (const accepted of await mergeBatch()) yield { accepted: accepted };
  }
  yield { merged: totals };
}

interface HubContext {
  columns?: { lookup: () => ColumnSpec[] };
}

/** Appends dead letters to `lake.<entity>_error_records`. */
export function writeErrors(target: SinkTarget, entity: string, options: SinkOptions = {}) {
  const spec: WarehouseSinkSpec = Object.freeze({ target: target, mode: "errors", table: { name: `${entity}_error_records`, columns: [] }, entity: entity });
  const max = options.maxBufferRows ?? DEFAULT_BUFFER_ROWS;
  return withName(`WriteErrors(${entity})`, (input: PCollection<DeadLetter>): PCollection<SinkReport> =>
    (input as unknown as PCollection<Row>).apply(writerFor(target, (rows: Row[]) => flushWarehouse(spec, rows), max)));
}

/**
 * Writes serving rows built from each record by the config's row-key template and column map;
 * with `orderBy` each row is versioned by that field's instant, so the newest version is served.
 */
export function writeServing(target: SinkTarget, config: ServingConfig, options: SinkOptions & { orderBy?: string } = {}) {
  const spec: ServingSinkSpec = Object.freeze({ target: target, config: config, orderBy: options.orderBy });
  const max = options.maxBufferRows ?? DEFAULT_BUFFER_ROWS;
  return withName(`WriteServing(${config.table})`, (input: PCollection<Row>): PCollection<SinkReport> =>
    input.apply(writerFor(target, (rows: Row[]) => flushServing(spec, rows), max)));
}

/** Makes the run's lake shards visible (the commit stage does it through the lake; kept for tests and tools). */
export async function commitLake(target: SinkTarget, runId: string): Promise<void> {
  const lake = await openLake(target);
  await lake.commit(runId);
}

requireForSerialization("api2lake/dist/sinks/beam-sinks", {
  flushLake: flushLake,
  flushWarehouse: flushWarehouse,
  flushServing: flushServing,
  flushHub: flushHub,
  mergeHubBatches: mergeHubBatches,
  newBundleId: newBundleId,
});
