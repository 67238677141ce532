import { impulse, parDo, split, withName, type Root } from "apache-beam";
import { reshuffle } from "apache-beam/transforms/utils";
import { requireForSerialization } from "apache-beam/serialization";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import { LINEAGE_COLUMNS, failed, ok, type Outcome, type Row } from "../model/row";
import type { SinkTarget } from "../model/backends";
import { openLake } from "../sinks/open-backends";
import type { ReadRestOutput } from "./rest/read-rest";
import type { PageSummary, RestElement, RestRecord } from "./rest/work-item";

/**
 * The raw lake read back as records: what `api2lake run --from-raw` feeds into the same entity
 * branch a REST read feeds (pipeline/graph.ts), so a rebuild cleans, dedupes and lands exactly as
 * a fetch would - without a single HTTP request.
 *
 * The raw layer holds, per entity, `raw/<entity>/dt=YYYY-MM-DD/<runId>-<shard>.ndjson`: each line
 * is the API's record (with its `attach` fields) plus the five lineage columns (model/row.ts),
 * written by the cleaner's `raw` output; `dt` is the UTC day of `_ingested_at` (the fetch). The
 * `<entity>_requests` folders beside them hold page metadata, never records, and are not read.
 */

/** Inclusive UTC days (`yyyy-MM-dd`) of the raw layer's `dt=` partitions to read; absent ends are open. */
export interface DayRange {
  from?: string;
  to?: string;
}

export interface RawLakeReadOptions {
  /** Stamped on dead letters. */
  runId: string;
  entities: readonly string[];
  days?: DayRange;
}

/** One committed raw shard of an entity. */
export interface RawShard {
  entity: string;
  path: string;
}

const SHARD = /^raw\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+\.ndjson$/;

/**
 * The entity's shards among committed lake paths (as `Lake.list("raw/<entity>/")` returns them),
 * restricted to `days` (compared as `yyyy-MM-dd` text, both ends inclusive), in path order.
 */
export function rawShardsOf(paths: readonly string[], entity: string, days: DayRange = {}): RawShard[] {
  const out: RawShard[] = [];
  for (const p of paths) {
    const m = SHARD.exec(p);
    if (!m || m[1] !== entity) continue;
    if ((days.from !== undefined && m[2] < days.from) || (days.to !== undefined && m[2] > days.to)) continue;
    out.push({ entity: entity, path: p });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One raw line back to the record the API sent: the lineage columns are taken off (so the
 * cleaner computes the same `_payload_hash` again) and become the record's origin: `_source`,
 * `_page`, and `_ingested_at` as the fetch time. A line that is not a JSON object with those
 * lineage columns fails, naming what is missing.
 */
export function rawLineToRecord(line: string, source: string, entity: string): Outcome<RestRecord> {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (error) {
    return failed(`not JSON (${(error as Error).message})`);
  }
  if (row === null || typeof row !== "object" || Array.isArray(row)) return failed("not a JSON object");
  const raw = row as Row;
  for (const column of ["_ingested_at", "_source", "_page"]) {
    if (typeof raw[column] !== "string") return failed(`lineage column "${column}" is missing or not a string`);
  }
  if (Number.isNaN(Date.parse(raw._ingested_at as string)))
    return failed(`lineage column "_ingested_at" is not a timestamp: ${JSON.stringify(raw._ingested_at)}`);
  const record: Row = {};
  const lineage = new Set<string>(LINEAGE_COLUMNS);
  for (const key of Object.keys(raw)) if (!lineage.has(key)) record[key] = raw[key];
  return ok({
    source: source, entity: entity, record: record,
    _source: raw._source as string, _page: raw._page as string, fetched_at: new Date(raw._ingested_at as string).toISOString(),
  });
}

/**
 * A shard's text as REST elements: a record per line, in line order (the cleaner's per-page DST
 * counting relies on it); a line that cannot be read back is a `parse` dead letter naming the
 * file and line. Blank lines are skipped.
 */
export function rawShardElements(text: string, shard: RawShard, ids: { source: string; runId: string }): RestElement[] {
  const out: RestElement[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const read = rawLineToRecord(lines[i], ids.source, shard.entity);
    if (read.ok) out.push({ record: read.value });
    else {
      const error = `raw lake ${shard.path} line ${i + 1}: ${read.reason}`;
      out.push({ deadLetter: deadLetter({ stage: "parse", error: error, payload: lines[i], source: shard.path, run_id: ids.runId, entity: shard.entity }) });
    }
  }
  return out;
}

/** Every committed raw shard of the entities within the days (runs on the worker). */
export async function listRawShards(target: SinkTarget, entities: readonly string[], days: DayRange): Promise<RawShard[]> {
  const lake = await openLake(target);
  const out: RawShard[] = [];
  for (const entity of entities) out.push(...rawShardsOf(await lake.list(`raw/${entity}/`), entity, days));
  return out;
}

/** Reads one shard into REST elements (runs on the worker). */
export async function readRawShard(target: SinkTarget, shard: RawShard, ids: { source: string; runId: string }): Promise<RestElement[]> {
  const lake = await openLake(target);
  return rawShardElements(await lake.readShard(shard.path), shard, ids);
}

/**
 * Reads a source's raw lake into the graph, shaped as a REST read (`records`, `pages` - always
 * empty: no request is made -, `deadLetters`), so `entityBranch` runs unchanged.
 *
 * Steps: ListRawShards (impulse + one listing per entity) -> ReshuffleRawShards -> ReadRawShards
 * (up to 8 shards read at once) -> SplitRead.
 */
export function readRawLake(target: SinkTarget, source: string, options: RawLakeReadOptions) {
  const entities = [...options.entities];
  const days: DayRange = { ...(options.days ?? {}) };
  const ids = { source: source, runId: options.runId };
  return withName(`ReadRawLake_${source}`, function readRawLakeSource(root: Root): Omit<ReadRestOutput, "cursors"> {
    const shards = root
      .apply(withName("StartRead", impulse()))
      .apply(withName("ListRawShards", parDo({
        process: async function (_: Uint8Array) {
          return listRawShards(target, entities, days);
        },
      })))
      .apply(withName("ReshuffleRawShards", reshuffle<RawShard>()));
    const read = shards.apply(withName("ReadRawShards", parDo<RawShard, RestElement>({
      maxConcurrency: 8,
      process: async function (shard: RawShard) {
        return readRawShard(target, shard, ids);
      },
    })));
    const parts = read.apply(withName("SplitRead", split<{ record: RestRecord; page: PageSummary; deadLetter: DeadLetter }>(["record", "page", "deadLetter"])));
    return { records: parts.record, pages: parts.page, deadLetters: parts.deadLetter };
  });
}

requireForSerialization("api2lake/dist/sources/raw-lake", {
  listRawShards: listRawShards, readRawShard: readRawShard, rawShardElements: rawShardElements, rawLineToRecord: rawLineToRecord, rawShardsOf: rawShardsOf,
});
