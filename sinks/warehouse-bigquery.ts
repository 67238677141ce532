import * as crypto from "crypto";
import { BigQuery } from "@google-cloud/bigquery";
import type { Job, Table, TableField } from "@google-cloud/bigquery";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import { deadLetter } from "../model/dead-letter";
import type { FieldType } from "../model/source-config";
import type { HubChildBatch, HubMergeResult, RecomputeRequest, TableSpec, Warehouse } from "../model/backends";
import { BIGQUERY, recomputeStatements, stringLiteral } from "./recompute-sql";
import { acceptCondition, tallyDecisions } from "./hub-decisions";
import type { Decision } from "./hub-decisions";
import { ERROR_RECORD_COLUMNS } from "./warehouse-duckdb";
import { retrying, isNetworkError, isTransient, withTimeout } from "./gcp-retry";

/**
 * The warehouse in BigQuery: datasets `<prefix>lake`, `<prefix>hub`, `<prefix>dataproducts`.
 *
 * - Tables are created from the `TableSpec` (day-partitioned on `partitionColumn` when it is a
 *   date or timestamp); keys the spec does not declare become STRING (JSON for objects/arrays)
 *   columns, added to the table's schema when first seen - as the DuckDB twin does.
 * - `appendLake` runs a load job from NDJSON (uploaded, or from `gs://` when `stagingBucket` is
 *   set); `appendMode: "stream"` uses `insertAll` in batches of at most `insertBatchRows` (500)
 *   rows and `insertBatchBytes` (9 MB).
 * - `mergeHub` keeps the newest row per key of the batch, loads it into a staging table, reads
 *   each row's decision (hub-decisions.ts: with `orderBy` versions only move forward), replaces
 *   the accepted parents' children (one MERGE per child table), then runs one MERGE on the
 *   primary key whose WHEN MATCHED repeats the ordering rule: loading the same rows twice leaves
 *   the tables as once, and a concurrent newer write is never overwritten.
 * - `appendLake` on a table with `_payload_hash`, and `writeErrors`, load into a staging table and
 *   insert only rows not already there (payload hash; stage, error and payload SHA-256).
 * - Every identifier is backtick-quoted; aliases have a space in their name (`target row`), so
 *   no landed column (`t`, `s`, `select`, ...) can be read as one; a table with a column named
 *   `_api2lake_seq` or `_api2lake_decision` (the staging's own) is refused.
 * - `replaceDataProduct` runs one MERGE that deletes the partitions present in the batch and
 *   inserts the batch (atomic); an unpartitioned table is replaced by a WRITE_TRUNCATE load.
 * - `appendLake`: rows BigQuery rejects (a failed load is re-sent through insertAll to find
 *   them; insertAll reports them per row) become dead letters in `lake.<table>_error_records`
 *   with BigQuery's reason, the others are appended; `appendRows` returns them instead.
 *   `mergeHub`, `replaceDataProduct` and `writeErrors` are all-or-nothing: a value BigQuery
 *   refuses fails the call and changes nothing (as the DuckDB twin does). Every request is retried a bounded number of times
 *   on transient errors and bounded by a timeout: nothing waits or retries forever.
 * The client is created on first use, never captured.
 *
 * @example
 * const wh = new BigQueryWarehouse({ projectId: "acme", datasetPrefix: "dev_", location: "EU" });
 * await wh.mergeHub({ name: "customers", columns: [{ name: "customer_id", type: "integer" }], primaryKey: ["customer_id"] }, rows);
 * await wh.query("select count(*) as n from dev_hub.customers"); // [{ n: 3 }]
 */
export interface BigQueryWarehouseOptions {
  projectId: string;
  datasetPrefix?: string;
  /** Dataset location, e.g. `EU` (default `US`). */
  location?: string;
  /** Defaults to env `API2LAKE_BIGQUERY_ENDPOINT` (the emulator), else Google's. */
  apiEndpoint?: string;
  /** `load` (default) or `stream` (insertAll) for appendLake. */
  appendMode?: "load" | "stream";
  /** When set, load jobs read NDJSON written to `gs://<stagingBucket>/_staging/...` instead of uploads. */
  stagingBucket?: string;
  insertBatchRows?: number;
  insertBatchBytes?: number;
  /** Attempts per request on transient errors (default 4). */
  maxAttempts?: number;
  /** Ceiling for one request or one job, in ms (default 120 000). */
  timeoutMs?: number;
}

export interface AppendResult {
  written: number;
  rejected: DeadLetter[];
}

type Layer = "lake" | "hub" | "dataproducts";

const BQ_TYPES: Record<FieldType, string> = {
  string: "STRING", integer: "INT64", number: "FLOAT64", boolean: "BOOL", date: "DATE", timestamp: "TIMESTAMP", json: "JSON",
};

export const INSERT_ALL_MAX_ROWS = 500;

/**
 * Names in generated SQL. The aliases have a space, which no landed column name has (landed
 * columns match /^[a-z_][a-z0-9_]*$/), so a column `t`, `s`, `target` or `select` is never read
 * as an alias; every identifier is backtick-quoted. The staging seq column must be a plain
 * name in BigQuery: a table holding a column of that name is refused.
 */
const SEQ = "_api2lake_seq";
const DECISION = "_api2lake_decision";
const TARGET = "`target row`";
const SOURCE = "`source row`";
export const INSERT_ALL_MAX_BYTES = 9 * 1024 * 1024;

export class BigQueryWarehouse implements Warehouse {
  readonly options: Readonly<BigQueryWarehouseOptions>;
  private client: BigQuery | undefined;
  private readonly schemas = new Map<string, TableField[]>();
  private readonly datasetsReady = new Map<string, Promise<void>>();

  constructor(options: BigQueryWarehouseOptions) {
    if (!options.projectId) throw new Error("BigQuery warehouse needs a projectId");
    this.options = Object.freeze({ ...options });
  }

  /** `<prefix><layer>` */
  dataset(layer: Layer): string {
    return `${this.options.datasetPrefix ?? ""}${layer}`;
  }

  private get bq(): BigQuery {
    if (!this.client) {
      const apiEndpoint = this.options.apiEndpoint ?? process.env.API2LAKE_BIGQUERY_ENDPOINT;
      this.client = new BigQuery({
        projectId: this.options.projectId,
        apiEndpoint: apiEndpoint,
        location: this.options.location,
        autoRetry: false,
        // The client authenticates even against a custom endpoint, and its upload path needs the
        // headers that authentication adds: an emulator gets a fixed token instead of ADC.
        ...(apiEndpoint && !/\.googleapis\.com/.test(apiEndpoint) ? { authClient: emulatorAuthClient() as never } : {}),
      });
    }
    return this.client;
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retrying(what, fn, { maxAttempts: this.options.maxAttempts ?? 4, timeoutMs: this.timeoutMs, retryIf: bigQueryRetryable });
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 120_000;
  }

  async appendLake(table: TableSpec, rows: readonly Row[]): Promise<void> {
    const result = await this.appendRows(table, rows);
    if (result.rejected.length) await this.writeErrors(table.name, result.rejected);
  }

  /**
   * `appendLake` that returns the rows BigQuery rejected (as dead letters) instead of writing
   * them. On a table with `_payload_hash` the rows go through a staging table and only those
   * whose hash the table does not have yet are inserted.
   */
  async appendRows(table: TableSpec, rows: readonly Row[], mode = this.options.appendMode ?? "load"): Promise<AppendResult> {
    const t = await this.ensureTable("lake", table, rows);
    if (rows.length === 0) return { written: 0, rejected: [] };
    const fields = this.schemas.get(key(t)) as TableField[];
    const hash = fields.find((f) => (f.name as string).toLowerCase() === "_payload_hash")?.name as string | undefined;
    const fill = (into: Table, batch: readonly Row[]) => mode === "stream" ? this.insertAll(into, table.name, batch) : this.load(into, table.name, batch, "WRITE_APPEND");
    if (hash === undefined) return fill(t, rows);
    const h = quote(hash);
    return this.viaStaging(t, table, rows, [], (staging) => this.insertNew(t, staging, `${SOURCE}.${h} IS NULL OR ${SOURCE}.${h} NOT IN (SELECT ${h} FROM ${this.fq("lake", t.id as string)} WHERE ${h} IS NOT NULL)`), fill);
  }

  /** `INSERT INTO <lake table> SELECT <its columns> FROM staging AS <source alias> WHERE <isNew>`. */
  private async insertNew(lakeTable: Table, staging: string, isNew: string): Promise<void> {
    const cols = (this.schemas.get(key(lakeTable)) as TableField[]).map((f) => quote(f.name as string)).join(", ");
    await this.runDml(`INSERT INTO ${this.fq("lake", lakeTable.id as string)} (${cols}) SELECT ${cols} FROM ${staging} AS ${SOURCE} WHERE ${isNew}`);
  }

  async mergeHub(table: TableSpec, rows: readonly Row[], children: readonly HubChildBatch[] = []): Promise<HubMergeResult> {
    const keys = table.primaryKey ?? [];
    if (keys.length === 0) throw new Error(`hub.${table.name}: mergeHub needs a primaryKey`);
    const target = await this.ensureTable("hub", table, rows);
    const childTargets: Table[] = [];
    for (const child of children) childTargets.push(await this.ensureTable("hub", child.table, child.rows.flat()));
    if (rows.length === 0) return tallyDecisions([]);
    const fields = this.schemas.get(key(target)) as TableField[];
    refuseInternalNames(fields, `${this.dataset("hub")}.${table.name}`);
    const keyNames = keys.map((k) => findField(fields, k, `${this.dataset("hub")}.${table.name} primary key`).name as string);
    // No such column yet: every stored and incoming version is null, which the rule accepts in arrival order.
    const orderBy = fields.find((f) => table.orderBy !== undefined && (f.name as string).toLowerCase() === table.orderBy.toLowerCase())?.name as string | undefined;
    // A rebuild re-cleans stored payloads: the same payload must still replace (rewriteUnchanged).
    const hash = table.rewriteUnchanged ? undefined : fields.find((f) => (f.name as string).toLowerCase() === "_payload_hash")?.name as string | undefined;
    // The batch is reduced to the newest row per key first (the emulator's MERGE takes a table,
    // not a subquery, as its source); the rows it beat are older_ignored.
    const newest = newestPerKey(rows, keyNames, fields, orderBy);
    const staged = newest.map((i) => ({ ...rows[i], [SEQ]: i }));
    const decisions: { index: number; decision: Decision }[] = [];
    const kept = new Set(newest);
    rows.forEach((_, i) => { if (!kept.has(i)) decisions.push({ index: i, decision: "older_ignored" }); });
    const q = { source: SOURCE, target: TARGET, quote: quote, orderBy: orderBy };
    const on = keyNames.map((k) => `${TARGET}.${quote(k)} = ${SOURCE}.${quote(k)}`).join(" AND ");
    const unchanged = hash === undefined ? "FALSE" : `(${SOURCE}.${quote(hash)} = ${TARGET}.${quote(hash)}` +
      (orderBy === undefined ? ")" : ` AND (${SOURCE}.${quote(orderBy)} = ${TARGET}.${quote(orderBy)} OR (${SOURCE}.${quote(orderBy)} IS NULL AND ${TARGET}.${quote(orderBy)} IS NULL)))`);
    const replaces = `(${acceptCondition(q)} AND NOT ${unchanged})`;
    await this.viaStaging(target, table, staged, [{ name: SEQ, type: "INT64", mode: "NULLABLE" }], async (staging) => {
      const found = await this.query(
        `SELECT ${SOURCE}.${quote(SEQ)} AS ${quote(SEQ)}, CASE WHEN ${TARGET}.${quote(keyNames[0])} IS NULL THEN 'inserted'` +
          ` WHEN NOT ${acceptCondition(q)} THEN 'older_ignored' WHEN ${unchanged} THEN 'unchanged' ELSE 'updated' END AS ${quote(DECISION)}` +
          ` FROM ${staging} AS ${SOURCE} LEFT JOIN ${this.fq("hub", table.name)} AS ${TARGET} ON ${on}`,
      );
      for (const d of found) decisions.push({ index: Number(d[SEQ]), decision: String(d[DECISION]) as Decision });
      const accepted = new Set(decisions.filter((d) => d.decision === "inserted" || d.decision === "updated").map((d) => d.index));
      if (accepted.size === 0) return;
      // The accepted rows need a table of their own: the emulator cannot run a join inside a
      // subquery, and the children's replacement needs the accepted keys.
      const acceptedRows = newest.filter((i) => accepted.has(i)).map((i) => rows[i]);
      const replace = async (winners: string) => {
        const acceptedKeys = `SELECT ${keyString(keyNames.map((k) => quote(k)))} FROM ${winners}`;
        // Children first: a retry after a failure between the statements decides the same
        // parents again (they are not merged yet) and replaces their children again.
        for (let c = 0; c < children.length; c++) {
          const child = children[c];
          const childFields = this.schemas.get(key(childTargets[c])) as TableField[];
          const parentNames = child.parentKey.map((k) => findField(childFields, k, `${this.dataset("hub")}.${child.table.name} parent key`).name as string);
          const childRows = newest.filter((i) => accepted.has(i)).flatMap((i) => [...(child.rows[i] ?? [])]);
          const stale = `${keyString(parentNames.map((k) => `${TARGET}.${quote(k)}`))} IN (${acceptedKeys})`;
          if (childRows.length === 0) {
            await this.runDml(`DELETE FROM ${this.fq("hub", child.table.name)} AS ${TARGET} WHERE ${stale}`);
            continue;
          }
          await this.viaStaging(childTargets[c], child.table, childRows, [], async (childStaging) => {
            const cols = childFields.map((f) => quote(f.name as string));
            await this.runDml(
              `MERGE ${this.fq("hub", child.table.name)} AS ${TARGET} USING ${childStaging} AS ${SOURCE} ON FALSE` +
                ` WHEN NOT MATCHED BY SOURCE AND ${stale} THEN DELETE` +
                ` WHEN NOT MATCHED THEN INSERT (${cols.join(", ")}) VALUES (${cols.map((x) => `${SOURCE}.${x}`).join(", ")})`,
            );
          });
        }
        const cols = fields.map((f) => quote(f.name as string));
        const nonKey = fields.filter((f) => !keyNames.includes(f.name as string));
        await this.runDml(
          `MERGE ${this.fq("hub", table.name)} AS ${TARGET} USING ${winners} AS ${SOURCE} ON ${on}` +
            (nonKey.length ? ` WHEN MATCHED AND ${replaces} THEN UPDATE SET ${nonKey.map((f) => `${quote(f.name as string)} = ${SOURCE}.${quote(f.name as string)}`).join(", ")}` : "") +
            ` WHEN NOT MATCHED THEN INSERT (${cols.join(", ")}) VALUES (${cols.map((x) => `${SOURCE}.${x}`).join(", ")})`,
        );
      };
      // Every staged row accepted (a first load, say): the staging table already holds just them.
      if (acceptedRows.length === newest.length) await replace(staging);
      else await this.viaStaging(target, table, acceptedRows, [], replace);
    });
    return tallyDecisions(decisions);
  }

  async replaceDataProduct(table: TableSpec, rows: readonly Row[]): Promise<void> {
    const target = await this.ensureTable("dataproducts", table, rows);
    const fields = this.schemas.get(key(target)) as TableField[];
    if (!table.partitionColumn) {
      if (rows.length === 0) await this.runDml(`DELETE FROM ${this.fq("dataproducts", table.name)} WHERE true`);
      else await this.load(target, table.name, rows, "WRITE_TRUNCATE", "fail");
      return;
    }
    if (rows.length === 0) return;
    const part = quote(findField(fields, table.partitionColumn, `${this.dataset("dataproducts")}.${table.name} partitionColumn`).name as string);
    await this.viaStaging(target, table, rows, [], async (staging) => {
      const cols = fields.map((f) => quote(f.name as string));
      await this.runDml(
        `MERGE ${this.fq("dataproducts", table.name)} AS ${TARGET} USING ${staging} AS ${SOURCE} ON FALSE` +
          ` WHEN NOT MATCHED BY SOURCE AND ${TARGET}.${part} IN (SELECT DISTINCT ${part} FROM ${staging}) THEN DELETE` +
          ` WHEN NOT MATCHED THEN INSERT (${cols.join(", ")}) VALUES (${cols.map((c) => `${SOURCE}.${c}`).join(", ")})`,
      );
    });
  }

  /**
   * Recomputes the request's dataproduct rows from the hub (see `recomputeStatements`): per
   * chunk of keys a DELETE job, then an INSERT ... SELECT job (the emulator has no
   * multi-statement transactions; a failure between them fails the run, and the next run that
   * touches those keys recomputes them). Returns the rows now stamped with `request.runId`.
   * A hub table that does not exist yet: 0 rows, the dataproduct untouched.
   */
  async recomputeDataProduct(request: RecomputeRequest): Promise<number> {
    await this.ensureTable("dataproducts", request.table, []);
    const hub = this.bq.dataset(this.dataset("hub")).table(request.hubTable);
    if (!(await this.retry(`get table ${this.dataset("hub")}.${request.hubTable}`, async () => (await hub.exists())[0]))) return 0;
    const product = this.fq("dataproducts", request.table.name);
    const statements = recomputeStatements(BIGQUERY, request, { hub: this.fq("hub", request.hubTable), product: product, quote: quote });
    for (const s of statements) {
      await this.runDml(s.delete);
      await this.runDml(s.insert);
    }
    const counted = await this.query(`SELECT COUNT(*) AS n FROM ${product} WHERE _run_id = ${stringLiteral(request.runId, "bigquery")}`);
    return Number(counted[0]?.n ?? 0);
  }

  async writeErrors(entity: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const spec: TableSpec = { name: `${entity}_error_records`, columns: ERROR_RECORD_COLUMNS };
    const t = await this.ensureTable("lake", spec, []);
    const letterKey = (alias: string) => `CONCAT(TO_JSON_STRING(${alias}.stage), ',', TO_JSON_STRING(${alias}.error), ',', IFNULL(TO_HEX(SHA256(${alias}.payload)), 'null'))`;
    await this.viaStaging(t, spec, letters as unknown as Row[], [], (staging) =>
      this.insertNew(t, staging, `${letterKey(SOURCE)} NOT IN (SELECT ${letterKey(TARGET)} FROM ${this.fq("lake", spec.name)} AS ${TARGET})`));
  }

  async query(sql: string): Promise<Row[]> {
    const job = await this.retry("query job", async () => (await this.bq.createQueryJob({ query: sql, location: this.options.location }))[0]);
    const got = await withTimeout(job.getQueryResults({ timeoutMs: this.timeoutMs }), this.timeoutMs, "query");
    const fields = ((got[2] as { schema?: { fields?: TableField[] } } | undefined)?.schema?.fields ?? []) as TableField[];
    return (got[0] as Row[]).map((r) => fromBigQuery(r, fields));
  }

  async close(): Promise<void> {
    this.client = undefined;
  }

  /** `project.dataset.table` in backticks. */
  fq(layer: Layer, table: string): string {
    return `\`${this.options.projectId}.${this.dataset(layer)}.${table}\``;
  }

  private async runDml(sql: string): Promise<void> {
    // DML is not retried blindly after an ambiguous failure: the job id makes a retry join the same job.
    const jobId = `api2lake_dml_${crypto.randomUUID().replace(/-/g, "")}`;
    const job = await this.retry("DML job", async () => {
      try {
        return (await this.bq.createQueryJob({ query: sql, jobId: jobId, location: this.options.location }))[0];
      } catch (e) {
        if (codeOf(e) === 409 || /already (created|exists)/i.test(String((e as Error).message))) return this.bq.job(jobId, { location: this.options.location });
        throw e;
      }
    });
    await this.waitJob(job, "DML");
  }

  /**
   * Fills a fresh staging table (schema of `target` + `extra`) with `rows` through `fill` (a
   * load that fails on a bad row by default), runs `body` on its quoted name, drops it.
   */
  private async viaStaging(
    target: Table, spec: TableSpec, rows: readonly Row[], extra: TableField[], body: (staging: string) => Promise<void>,
    fill: (staging: Table, rows: readonly Row[]) => Promise<AppendResult> = (st, r) => this.load(st, spec.name, r, "WRITE_APPEND", "fail"),
  ): Promise<AppendResult> {
    const fields = this.schemas.get(key(target)) as TableField[];
    const layer = target.dataset.id as string;
    const name = `_stg_${spec.name}_${crypto.randomBytes(6).toString("hex")}`;
    const staging = this.bq.dataset(layer).table(name);
    const stagingFields = fields.concat(extra);
    await this.retry("create staging table", async () => {
      try { await staging.create({ schema: { fields: stagingFields }, expirationTime: String(Date.now() + 86_400_000) }); } catch (e) { if (codeOf(e) !== 409) throw e; }
    });
    this.schemas.set(key(staging), stagingFields);
    try {
      const result = await fill(staging, rows);
      await body(`\`${this.options.projectId}.${layer}.${name}\``);
      return result;
    } finally {
      this.schemas.delete(key(staging));
      await staging.delete({ ignoreNotFound: true }).catch(() => undefined);
    }
  }

  /** Load job (upload or gs://); on a data error, re-sends through insertAll to find the rejected rows. */
  private async load(table: Table, entity: string, rows: readonly Row[], disposition: "WRITE_APPEND" | "WRITE_TRUNCATE", onBadRows: "dead-letter" | "fail" = "dead-letter"): Promise<AppendResult> {
    const fields = this.schemas.get(key(table)) as TableField[];
    // Values BigQuery would refuse are caught here first (the emulator may drop a bad load silently).
    const jsonRows: Row[] = [];
    const early: DeadLetter[] = [];
    for (const r of rows) {
      const json = toBigQuery(r, fields);
      const why = typeProblem(json, fields);
      if (why === undefined) jsonRows.push(json);
      else if (onBadRows === "fail") throw new Error(`BigQuery load into ${table.dataset.id}.${table.id} refused, nothing was loaded: ${why}`);
      else early.push(letterFor(r, entity, `BigQuery rejected the row: ${why}`));
    }
    if (early.length) {
      const rest = rows.filter((r) => typeProblem(toBigQuery(r, fields), fields) === undefined);
      const loaded = await this.load(table, entity, rest, disposition, onBadRows);
      return { written: loaded.written, rejected: early.concat(loaded.rejected) };
    }
    const body = Buffer.from(jsonRows.map((j) => JSON.stringify(j) + "\n").join(""), "utf8");
    const jobId = `api2lake_load_${crypto.randomUUID().replace(/-/g, "")}`;
    const metadata = {
      sourceFormat: "NEWLINE_DELIMITED_JSON", writeDisposition: disposition, schema: { fields: fields },
      jobId: jobId, location: this.options.location,
    };
    let staged: string | undefined;
    if (this.options.stagingBucket && rows.length > 0) staged = await this.stageToGcs(body, jobId);
    let failure: string | undefined;
    try {
      let attempt = 0;
      const job = await this.retry(`load into ${table.dataset.id}.${table.id}`, async () => {
        // After an ambiguous failure the job may exist already: join it rather than load twice.
        if (++attempt > 1) {
          const existing = this.bq.job(jobId, { location: this.options.location });
          if ((await existing.exists())[0]) return existing;
        }
        return staged ? this.loadFromUri(table, staged, metadata) : uploadLoad(table, body, metadata);
      });
      failure = await this.waitJob(job, "load", true);
    } catch (e) {
      // BigQuery reports bad data in the finished job; the emulator refuses the job itself (400).
      const cause = (e as { cause?: unknown }).cause;
      if (codeOf(cause) !== 400) throw e;
      failure = (cause as Error).message;
    }
    if (!failure) return { written: rows.length, rejected: [] };
    if (onBadRows === "fail" || disposition === "WRITE_TRUNCATE") {
      const probe = this.rejectedByProbe(rows, fields, entity, failure);
      const first = probe.rejected.length ? ` (first bad row: ${probe.rejected[0].error})` : "";
      throw new Error(`BigQuery load into ${table.dataset.id}.${table.id} failed, nothing was loaded: ${failure}${first}`);
    }
    return this.insertAll(table, entity, rows);
  }

  private async stageToGcs(body: Buffer, jobId: string): Promise<string> {
    const storage = await import("@google-cloud/storage");
    const client = new storage.Storage({ projectId: this.options.projectId, apiEndpoint: process.env.API2LAKE_STORAGE_ENDPOINT });
    const name = `_staging/${jobId}.ndjson`;
    await this.retry("stage load file", () => client.bucket(this.options.stagingBucket as string).file(name).save(body, { resumable: body.length > 5 * 1024 * 1024 }));
    return `gs://${this.options.stagingBucket}/${name}`;
  }

  private async loadFromUri(table: Table, uri: string, metadata: Record<string, unknown>): Promise<Job> {
    const m = { ...metadata };
    const jobId = m.jobId as string;
    delete m.jobId;
    delete m.location;
    const resp = await this.bq.createJob({
      jobId: jobId, location: this.options.location,
      configuration: { load: { ...m, sourceUris: [uri], destinationTable: { projectId: this.options.projectId, datasetId: table.dataset.id, tableId: table.id } } },
    } as never);
    return resp[0];
  }

  /** Polls a job until DONE (bounded); returns its error text for data errors when `soft`, else throws. */
  private async waitJob(job: Job, what: string, soft = false): Promise<string | undefined> {
    const deadline = Date.now() + this.timeoutMs;
    let known = job.metadata as JobMeta | undefined;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      // The insert's answer may already say DONE (small loads, the emulator): no poll needed.
      const meta = known?.status?.state === "DONE" ? known : ((await this.retry(`${what} job status`, () => job.getMetadata()))[0] as JobMeta);
      known = undefined;
      if (meta.status?.state === "DONE") {
        const err = meta.status.errorResult;
        if (!err) return undefined;
        const detail = [err.message].concat((meta.status.errors ?? []).map((e) => e.message)).filter(Boolean).join("; ");
        if (soft && !isTransient({ reason: err.reason })) return detail;
        throw new Error(`BigQuery ${what} job ${job.id} failed: ${detail}`);
      }
      if (Date.now() > deadline) throw new Error(`BigQuery ${what} job ${job.id} not done after ${this.timeoutMs} ms`);
      const wait = delay;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** insertAll in batches within the API limits; rows it refuses come back as dead letters. */
  private async insertAll(table: Table, entity: string, rows: readonly Row[]): Promise<AppendResult> {
    const fields = this.schemas.get(key(table)) as TableField[];
    const maxRows = Math.min(this.options.insertBatchRows ?? INSERT_ALL_MAX_ROWS, 50_000);
    const maxBytes = this.options.insertBatchBytes ?? INSERT_ALL_MAX_BYTES;
    const rejected: DeadLetter[] = [];
    let written = 0;
    let batch: { insertId: string; json: Row; index: number }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const sent = batch;
      const payloads = sent.map((b) => ({ insertId: b.insertId, json: b.json }));
      batch = [];
      bytes = 0;
      const errors = await this.insertBatch(table, payloads);
      const byRow = new Map<unknown, InsertError>();
      for (const err of errors) byRow.set(err.row, err);
      for (let j = 0; j < sent.length; j++) {
        const b = sent[j];
        const err = byRow.get(payloads[j]);
        if (!err) { written++; continue; }
        const reason = err.errors.map((x) => `${x.reason ?? "invalid"}: ${x.message ?? ""}`.trim()).join("; ");
        rejected.push(letterFor(rows[b.index], entity, `BigQuery rejected the row: ${reason}`));
      }
    };
    for (let i = 0; i < rows.length; i++) {
      const json = toBigQuery(rows[i], fields);
      const size = Buffer.byteLength(JSON.stringify(json)) + 64;
      if (batch.length >= maxRows || (batch.length > 0 && bytes + size > maxBytes)) await flush();
      batch.push({ insertId: `${crypto.createHash("sha1").update(JSON.stringify(json)).digest("hex")}-${i}`, json: json, index: i });
      bytes += size;
    }
    await flush();
    return { written: written, rejected: rejected };
  }

  /**
   * One insertAll request; per-row errors are returned. A request refused as a whole (the
   * emulator does that for a bad value) is split in halves until the bad rows are alone, each
   * of which then comes back as an error of its own. A request that never got an HTTP answer
   * (connection refused, timeout) is retried a bounded number of times and then thrown.
   */
  private async insertBatch(table: Table, payloads: { insertId: string; json: Row }[]): Promise<InsertError[]> {
    try {
      return await retrying(`insertAll into ${table.dataset.id}.${table.id}`, async () => {
        try {
          await table.insert(payloads, { raw: true, skipInvalidRows: true, partialRetries: 0 } as never);
          return [] as InsertError[];
        } catch (e) {
          const partial = (e as { name?: string; errors?: InsertError[] }).errors;
          if ((e as { name?: string }).name === "PartialFailureError" && Array.isArray(partial)) return partial;
          throw e;
        }
      }, {
        maxAttempts: this.options.maxAttempts ?? 4,
        timeoutMs: this.timeoutMs,
        retryIf: (e) => isNetworkError(e) || [429, 502, 503, 504].includes(codeOf(e) ?? 0),
      });
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause;
      if (isNetworkError(cause) || codeOf(cause) === undefined) throw e;
      if (payloads.length === 1) {
        const c = cause as { message?: string; errors?: { reason?: string }[] };
        return [{ row: payloads[0], errors: [{ reason: c.errors?.[0]?.reason ?? String(codeOf(cause)), message: c.message }] }];
      }
      const half = Math.ceil(payloads.length / 2);
      const left = await this.insertBatch(table, payloads.slice(0, half));
      const right = await this.insertBatch(table, payloads.slice(half));
      return left.concat(right);
    }
  }

  /** Rows whose values cannot take their column's type, found locally (used where insertAll cannot be). */
  private rejectedByProbe(rows: readonly Row[], fields: TableField[], entity: string, failure: string): { bad: Set<number>; rejected: DeadLetter[] } {
    const bad = new Set<number>();
    const rejected: DeadLetter[] = [];
    rows.forEach((r, i) => {
      const why = typeProblem(toBigQuery(r, fields), fields);
      if (why) { bad.add(i); rejected.push(letterFor(r, entity, `BigQuery rejected the row: ${why} (load: ${failure})`)); }
    });
    return { bad: bad, rejected: rejected };
  }

  /** Creates the dataset and table if missing, adds columns the rows bring; caches the schema. */
  private async ensureTable(layer: Layer, spec: TableSpec, rows: readonly Row[]): Promise<Table> {
    const datasetId = this.dataset(layer);
    await this.ensureDataset(datasetId);
    const table = this.bq.dataset(datasetId).table(spec.name);
    const wanted = wantedFields(spec, rows);
    let have = this.schemas.get(key(table));
    if (!have) {
      have = await this.retry(`get table ${datasetId}.${spec.name}`, async () => {
        try {
          return ((await table.getMetadata())[0] as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
        } catch (e) {
          if (codeOf(e) !== 404) throw e;
          return undefined;
        }
      });
      if (!have) {
        const part = spec.partitionColumn ? wanted.find((f) => (f.name as string).toLowerCase() === spec.partitionColumn?.toLowerCase()) : undefined;
        const timePartitioning = part && (part.type === "DATE" || part.type === "TIMESTAMP") ? { type: "DAY", field: part.name } : undefined;
        await this.retry(`create table ${datasetId}.${spec.name}`, async () => {
          try { await table.create({ schema: { fields: wanted }, timePartitioning: timePartitioning }); } catch (e) { if (codeOf(e) !== 409) throw e; }
        });
        have = wanted;
      }
    }
    const known = new Set(have.map((f) => (f.name as string).toLowerCase()));
    const added = wanted.filter((f) => !known.has((f.name as string).toLowerCase()));
    if (added.length) {
      have = have.concat(added);
      const fields = have;
      for (const f of added) await this.runDml(`ALTER TABLE ${this.fq(layer, spec.name)} ADD COLUMN IF NOT EXISTS ${quote(f.name as string)} ${f.type}`);
      const now = await this.retry(`get table ${datasetId}.${spec.name}`, async () => ((await table.getMetadata())[0] as { schema?: { fields?: TableField[] } }).schema?.fields ?? []);
      if (now.length < fields.length) await this.rebuildWithColumns(layer, table, now, fields);
    }
    this.schemas.set(key(table), have);
    return table;
  }

  /**
   * For stores where ALTER TABLE ADD COLUMN has no effect (the BigQuery emulator v0.8.1): copies
   * the rows aside, recreates the table with the wider schema and copies them back. Not atomic;
   * on BigQuery itself the ALTER works and this never runs.
   */
  private async rebuildWithColumns(layer: Layer, table: Table, old: TableField[], fields: TableField[]): Promise<void> {
    const meta = (await this.retry("get table", () => table.getMetadata()))[0] as { timePartitioning?: unknown };
    const aside = this.bq.dataset(table.dataset.id as string).table(`_evolve_${table.id}_${crypto.randomBytes(4).toString("hex")}`);
    const cols = old.map((f) => quote(f.name as string)).join(", ");
    await this.retry("create copy table", () => aside.create({ schema: { fields: old } }));
    try {
      await this.runDml(`INSERT INTO ${this.fq(layer, aside.id as string)} (${cols}) SELECT ${cols} FROM ${this.fq(layer, table.id as string)}`);
      await this.retry("drop table", () => table.delete());
      await this.retry("recreate table", () => table.create({ schema: { fields: fields }, timePartitioning: meta.timePartitioning } as never));
      await this.runDml(`INSERT INTO ${this.fq(layer, table.id as string)} (${cols}) SELECT ${cols} FROM ${this.fq(layer, aside.id as string)}`);
    } finally {
      await aside.delete({ ignoreNotFound: true }).catch(() => undefined);
    }
  }

  private ensureDataset(id: string): Promise<void> {
    let ready = this.datasetsReady.get(id);
    if (!ready) {
      ready = this.retry(`create dataset ${id}`, async () => {
        const ds = this.bq.dataset(id, { location: this.options.location });
        if ((await ds.exists())[0]) return;
        try { await ds.create({ location: this.options.location }); } catch (e) { if (codeOf(e) !== 409) throw e; }
      });
      this.datasetsReady.set(id, ready);
      ready.catch(() => this.datasetsReady.delete(id));
    }
    return ready;
  }
}

interface JobMeta {
  status?: { state?: string; errorResult?: { reason?: string; message?: string }; errors?: { reason?: string; message?: string }[] };
}
interface InsertError {
  row: unknown;
  errors: { reason?: string; message?: string }[];
}

function wantedFields(spec: TableSpec, rows: readonly Row[]): TableField[] {
  const out = new Map<string, TableField>();
  for (const c of spec.columns) out.set(c.name.toLowerCase(), { name: c.name, type: BQ_TYPES[c.type] ?? "STRING", mode: "NULLABLE" });
  for (const r of rows) {
    for (const k in r) {
      if (out.has(k.toLowerCase()) || r[k] === undefined) continue;
      const v = r[k];
      out.set(k.toLowerCase(), { name: k, type: v !== null && typeof v === "object" ? "JSON" : "STRING", mode: "NULLABLE" });
    }
  }
  if (out.size === 0) throw new Error(`${spec.name}: no columns in the spec or the rows`);
  return [...out.values()];
}

/**
 * Indexes (ascending) of the newest row of each primary key: the greatest `orderBy` value (a
 * null or missing value is the smallest), the later row on a tie. Keys compare on their BigQuery form.
 */
function newestPerKey(rows: readonly Row[], keys: readonly string[], fields: TableField[], orderBy: string | undefined): number[] {
  const keyFields = fields.filter((f) => keys.includes(f.name as string));
  const orderField = orderBy === undefined ? undefined : fields.find((f) => f.name === orderBy);
  const byKey = new Map<string, number>();
  const orderOf = (i: number): unknown => (orderField ? toBigQuery(rows[i], [orderField])[orderBy as string] : undefined);
  rows.forEach((r, i) => {
    const json = toBigQuery(r, keyFields);
    const k = JSON.stringify(keyFields.map((f) => json[f.name as string] ?? null));
    const best = byKey.get(k);
    if (best === undefined || !orderField || compareOrder(orderOf(i), orderOf(best), orderField.type as string) >= 0) byKey.set(k, i);
  });
  return [...byKey.values()].sort((a, b) => a - b);
}

/** Compares two `orderBy` values in their BigQuery JSON form (undefined = null, smallest); timestamps as instants. */
function compareOrder(a: unknown, b: unknown, type: string): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  const norm = (v: unknown): number | string =>
    type === "TIMESTAMP" ? Date.parse(String(v)) : type === "INT64" || type === "FLOAT64" ? Number(v) : String(v);
  const x = norm(a), y = norm(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An unambiguous STRING of key values (each as its JSON text), for `IN (SELECT ...)` across tables of other column types. */
function keyString(exprs: string[]): string {
  return `CONCAT(${exprs.map((e) => `TO_JSON_STRING(CAST(${e} AS STRING))`).join(", ',', ")})`;
}

/** Staging and result columns the generated SQL adds; a landed column could only collide by this exact name, so it is refused. */
function refuseInternalNames(fields: TableField[], table: string): void {
  const clash = fields.find((f) => [SEQ, DECISION].includes((f.name as string).toLowerCase()));
  if (clash) throw new Error(`${table}: column "${clash.name}" is reserved by api2lake's generated SQL`);
}

function findField(fields: TableField[], name: string, what: string): TableField {
  const f = fields.find((x) => (x.name as string).toLowerCase() === name.toLowerCase());
  if (!f) throw new Error(`${what} "${name}" is not a column (columns: ${fields.map((x) => x.name).join(", ")})`);
  return f;
}

/** A row as BigQuery's JSON wants it for the table's columns (unknown keys dropped). */
export function toBigQuery(row: Row, fields: TableField[]): Row {
  const out: Row = {};
  let byLower: Map<string, string> | undefined;
  for (const f of fields) {
    let v = row[f.name as string];
    if (v === undefined) {
      // Column names are case-insensitive in BigQuery: `Name` in a row fills column `name`.
      if (!byLower) {
        byLower = new Map<string, string>();
        for (const k in row) byLower.set(k.toLowerCase(), k);
      }
      const key = byLower.get((f.name as string).toLowerCase());
      if (key === undefined) continue;
      v = row[key];
    }
    if (v === undefined || v === null) continue;
    out[f.name as string] = toCell(v, f.type as string);
  }
  return out;
}

function toCell(v: unknown, type: string): unknown {
  switch (type) {
    case "JSON": return JSON.stringify(v);
    case "TIMESTAMP": return v instanceof Date ? v.toISOString() : typeof v === "number" ? new Date(v).toISOString() : v;
    case "DATE": return v instanceof Date ? v.toISOString().slice(0, 10) : typeof v === "number" ? new Date(v).toISOString().slice(0, 10) : v;
    case "STRING": return typeof v === "object" ? JSON.stringify(v) : String(v);
    default: return v;
  }
}

/** Why a converted value cannot take its column type, or undefined. */
function typeProblem(json: Row, fields: TableField[]): string | undefined {
  for (const f of fields) {
    const v = json[f.name as string];
    if (v === undefined) continue;
    const bad =
      (f.type === "INT64" && !(Number.isSafeInteger(v) || (typeof v === "string" && /^-?\d{1,19}$/.test(v)))) ||
      (f.type === "FLOAT64" && !(typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))))) ||
      (f.type === "BOOL" && !(typeof v === "boolean" || v === "true" || v === "false")) ||
      (f.type === "DATE" && !(typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v))) ||
      (f.type === "TIMESTAMP" && !(typeof v === "string" && !Number.isNaN(Date.parse(v))));
    if (bad) return `invalid: ${JSON.stringify(v)} is not a valid ${f.type} for field ${f.name}`;
  }
  return undefined;
}

/** A value read back as the DuckDB twin returns it: timestamps ISO `...Z`, dates `YYYY-MM-DD`, JSON parsed. */
function fromBigQuery(row: Row, fields: TableField[]): Row {
  const types = new Map(fields.map((f) => [f.name as string, f.type as string]));
  const out: Row = {};
  for (const k in row) {
    let v = row[k] as unknown;
    if (v !== null && typeof v === "object" && "value" in (v as object) && !Array.isArray(v)) v = (v as { value: unknown }).value;
    const t = types.get(k);
    if (t === "JSON" && typeof v === "string") v = JSON.parse(v);
    if (t === "TIMESTAMP" && typeof v === "string" && !Number.isNaN(Date.parse(v))) v = new Date(Date.parse(v)).toISOString();
    out[k] = v;
  }
  return out;
}

function letterFor(row: Row, entity: string, error: string): DeadLetter {
  return deadLetter({
    stage: "sink", error: error, payload: row, entity: entity,
    source: typeof row._source === "string" ? row._source : `bigquery:${entity}`,
    run_id: typeof row._run_id === "string" ? row._run_id : "",
  });
}

function uploadLoad(table: Table, body: Buffer, metadata: Record<string, unknown>): Promise<Job> {
  return new Promise<Job>((resolve, reject) => {
    const stream = table.createWriteStream(metadata as never);
    stream.once("job", (job: Job) => {
      stream.removeListener("error", reject);
      stream.on("error", () => undefined); // the job's outcome is read by waitJob
      resolve(job);
    });
    stream.once("error", reject);
    stream.end(body);
  });
}

/**
 * Worth another attempt: no HTTP answer at all, throttling, 502/503/504, or a reason BigQuery
 * documents as retryable. A bare 500 is not retried (the emulator answers 500 to bad SQL).
 */
function bigQueryRetryable(e: unknown): boolean {
  if (isNetworkError(e)) return true;
  const code = codeOf(e);
  if (code !== undefined && [408, 429, 502, 503, 504].includes(code)) return true;
  const reasons = ((e as { errors?: { reason?: unknown }[] })?.errors ?? []).map((x) => x?.reason);
  return reasons.some((r) => r === "backendError" || r === "rateLimitExceeded" || r === "jobBackendError" || r === "jobRateLimitExceeded");
}

/** A stand-in credential for emulators: a fixed bearer token, no metadata-server or ADC lookups. */
function emulatorAuthClient(): { getRequestHeaders: () => Promise<Headers> } {
  return { getRequestHeaders: async () => new Headers({ Authorization: "Bearer emulator" }) };
}

/** Schema cache key: `dataset.table`. */
function key(table: Table): string {
  return `${table.dataset.id}.${table.id}`;
}

function quote(name: string): string {
  return "`" + name.replace(/`/g, "\\`") + "`";
}

function codeOf(e: unknown): number | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === "number" ? c : undefined;
}
