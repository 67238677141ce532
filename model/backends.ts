import type { Row } from "./row";
import type { DeadLetter } from "./dead-letter";
import type { AggregateConfig, FieldType, ServingConfig } from "./source-config";

/**
 * One small interface per backend kind; each has a local and a cloud implementation in
 * sinks/, and the graph never asks which one it has. Implementations are opened lazily on
 * the worker from a plain `SinkTarget`, never captured as live clients.
 */

export type LakeLayer = "raw" | "processed" | "deadletter";

export interface LakeShard {
  layer: LakeLayer;
  entity: string;
  /** `YYYY-MM-DD`, the `dt=` partition. */
  dt: string;
  runId: string;
  /** Unique within the run, e.g. a worker/bundle id plus a counter. */
  shard: string;
  rows: readonly Row[];
}

export interface Lake {
  /**
   * Writes `<layer>/<entity>/dt=<dt>/<runId>-<shard>.ndjson` as pending: readers do not see it
   * until `commit(runId)`. Returns the final object path relative to the lake root.
   */
  writeShard(shard: LakeShard): Promise<string>;
  /** Makes every pending shard of the run visible at once. */
  commit(runId: string): Promise<void>;
  /** Small whole files beside the lake: run manifests, logs, watermarks. Path relative to the lake root's parent (`runs/...`, `state/...`). */
  writeText(relativePath: string, text: string): Promise<void>;
  readText(relativePath: string): Promise<string | undefined>;
  /** Committed object paths under a prefix (relative to the lake root). */
  list(prefix: string): Promise<string[]>;
  /** The text of one committed object, by a path `list` returned (a rebuild or a replay reads shards back). */
  readShard(objectPath: string): Promise<string>;
}

export interface ColumnSpec {
  name: string;
  type: FieldType;
}

export interface TableSpec {
  /** Table name without dataset/schema, e.g. `customers`. */
  name: string;
  columns: readonly ColumnSpec[];
  /** Column holding the event date; tables are partitioned by day on it where supported. */
  partitionColumn?: string;
  primaryKey?: readonly string[];
  /**
   * Hub tables only: the column whose value orders the versions of one key (the entity's
   * `orderBy`). A merge then never replaces a stored row by one with a smaller value; a null
   * value sorts before every other value.
   */
  orderBy?: string;
  /**
   * Hub tables only: a row with the stored `_payload_hash` and `orderBy` value replaces the
   * stored row (counted `updated`) instead of being left `unchanged`. A rebuild from the raw lake
   * sets it: the payloads are the stored ones, the cleaning config that made the row may not be.
   */
  rewriteUnchanged?: boolean;
}

/**
 * Exploded-array rows of the parents given to `mergeHub`, for one child table
 * (`<entity>_<column>`, primary key = `parentKey` + `_index`).
 */
export interface HubChildBatch {
  table: TableSpec;
  /** The child's columns holding the parent's key, aligned with the parent table's `primaryKey` (e.g. `parent_id`). */
  parentKey: readonly string[];
  /** Children per parent row: `rows[i]` belongs to the i-th parent row given to `mergeHub`. */
  rows: readonly (readonly Row[])[];
}

/**
 * What a hub merge did, per input row: every row is counted exactly once
 * (`inserted + updated + unchanged + olderIgnored = rows.length`).
 */
export interface HubMergeResult {
  /** Keys the hub did not have. */
  inserted: number;
  /** Stored rows replaced by a version with an equal or greater `orderBy` value (any version when there is no `orderBy`). */
  updated: number;
  /** Rows equal to the stored version (same `_payload_hash` and `orderBy` value): left as they were. */
  unchanged: number;
  /** Rows older than the stored version, or beaten by a newer version of their key in the same batch: not written. */
  olderIgnored: number;
  /** Indexes (into the input rows, ascending) of the rows inserted or updated: the versions the hub accepted. */
  accepted: number[];
}

export interface Warehouse {
  /**
   * Appends raw rows (+ lineage) to `lake.<table>`, skipping every row whose `_payload_hash`
   * is already in the table (written by an earlier call: a re-run or a redelivery), so the
   * same record lands once; rows without a `_payload_hash` are always appended.
   */
  appendLake(table: TableSpec, rows: readonly Row[]): Promise<void>;
  /**
   * Upserts into `hub.<table>` on its primary key: re-running a load leaves the table as one run
   * does. With `table.orderBy`, versions only move forward (see `HubMergeResult`). Children of an
   * accepted parent replace that parent's stored children (deleted first); children of a parent
   * that was not accepted are not written. Atomic per call on DuckDB; on BigQuery the parent
   * MERGE and each child table's replacement are separate statements.
   */
  mergeHub(table: TableSpec, rows: readonly Row[], children?: readonly HubChildBatch[]): Promise<HubMergeResult>;
  /** Replaces `dataproducts.<table>`: the partitions present in `rows` (or the whole table if unpartitioned). */
  replaceDataProduct(table: TableSpec, rows: readonly Row[]): Promise<void>;
  /**
   * Recomputes dataproduct rows from `hub.<hubTable>` (delete + insert of exactly the request's
   * keys, or of the whole table when it has none), each row stamped with `runId` in `_run_id`.
   * Returns the rows written. The SQL is `sinks/recompute-sql.ts`.
   */
  recomputeDataProduct(request: RecomputeRequest): Promise<number>;
  /**
   * Appends to `lake.<entity>_error_records`, skipping every letter whose stage, error and
   * payload (compared by SHA-256) are already in the table from an earlier call.
   */
  writeErrors(entity: string, letters: readonly DeadLetter[]): Promise<void>;
  query(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

/** A (station, local day) key of `dataproducts.sensor_daily_averages`; `day` is `YYYY-MM-DD`. */
export interface StationDay {
  station_id: string;
  day: string;
}

/** What `Warehouse.recomputeDataProduct` recomputes, and from where. */
export interface RecomputeRequest {
  /** The dataproduct table (`_run_id` among its columns). */
  table: TableSpec;
  /** The hub table the aggregate reads (`hub.<hubTable>`); its columns are the aggregate's fields. */
  hubTable: string;
  aggregate: AggregateConfig;
  /** `sensor_daily_averages`: the keys to recompute. Absent: the whole table (job counts). */
  keys?: readonly StationDay[];
  runId: string;
}

export type CellValue = string | number | boolean | null | Record<string, unknown> | unknown[];

export interface ServingRow {
  key: string;
  /** `family -> qualifier -> value`, encoded per the entity's declared encoding by the store. */
  cells: Record<string, Record<string, { value: CellValue; encoding: "string" | "int64" | "float64" | "bool" | "json" }>>;
  /**
   * The row's version, epoch ms UTC (from the entity's `orderBy` instant). Stores keep the cells
   * of the newest version: Bigtable writes it as the cell timestamp (micros), so a read returns
   * the newest; the embedded store ignores a write older than the cells it has. Absent: the
   * write time.
   */
  versionMs?: number;
}

export interface ServingWriteResult {
  written: number;
  failed: { key: string; reason: string }[];
}

export interface ServingStore {
  ensureTable(config: ServingConfig): Promise<void>;
  write(table: string, rows: readonly ServingRow[]): Promise<ServingWriteResult>;
  /** Rows in key order, decoded back to typed values. */
  read(table: string, options?: { prefix?: string; limit?: number }): Promise<ServingRow[]>;
  close(): Promise<void>;
}

/** Where a run lands: plain data, so it can travel to workers. */
export type SinkTarget =
  | { kind: "local"; out: string }
  | {
      kind: "gcp";
      project: string;
      bucket: string;
      /** Optional prefix for the `lake`, `hub`, `dataproducts` datasets, e.g. `dev_` -> `dev_hub`. */
      datasetPrefix: string;
      bigtableInstance: string;
      /** BigQuery location for datasets. */
      location: string;
      /** Ceiling in ms for each Cloud call (`--gcpTimeoutMs`); retried a bounded number of times. */
      timeoutMs: number;
      /**
       * An unbounded (streaming) graph: each sink gathers a window pane's rows and writes them
       * at once, instead of once per bundle, so writes per table stay within BigQuery's quotas.
       */
      perWindow?: boolean;
    };
