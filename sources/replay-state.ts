import { requireForSerialization } from "apache-beam/serialization";
import type { SinkTarget } from "../model/backends";
import { openLake } from "../sinks/open-backends";
import type { TextStore } from "./rest/state";

/**
 * Which dead letters of an entity were already replayed, so `api2lake replay` lands each one
 * once however often it runs. Like schemas (pipeline/schema-state.ts): the graph records what
 * it replays as run-scoped pending state (`runs/<run_id>/replay/<entity>.json`), and only a run
 * that committed promotes it into `state/<source>/<entity>.replayed.json`; a failed or
 * interrupted replay promotes nothing, so the next one replays the same letters again.
 */

/** What one replay run did with an entity's dead letters (the pending record). */
export interface ReplayRecord {
  source: string;
  entity: string;
  /** Ids (`deadLetterId`) of the letters pushed back through the pipeline, sorted. */
  replayed: string[];
  /** Letters left where they are, per stage: they cannot be replayed (see `REPLAYABLE_STAGES`). */
  unreplayable: Record<string, number>;
  /** Letters skipped because an earlier committed replay took them. */
  alreadyReplayed: number;
}

/** The persisted set of an entity's replayed letters. */
export interface ReplayedState {
  source: string;
  entity: string;
  replayed: string[];
  updated_at: string;
}

export function replayedStatePath(source: string, entity: string): string {
  return `state/${source}/${entity}.replayed.json`;
}

export function runReplayPath(runId: string, entity: string): string {
  return `runs/${runId}/replay/${entity}.json`;
}

/** The ids already replayed (empty before the first replay); a corrupt file is an error naming it. */
export async function readReplayed(store: TextStore, source: string, entity: string): Promise<Set<string>> {
  const path = replayedStatePath(source, entity);
  const text = await store.readText(path);
  if (text === undefined) return new Set();
  try {
    const parsed = JSON.parse(text) as ReplayedState;
    if (!Array.isArray(parsed.replayed)) throw new Error("no replayed array");
    return new Set(parsed.replayed);
  } catch (error) {
    throw new Error(`${path}: replay state is not valid (${(error as Error).message})`);
  }
}

/** Writes the run's pending replay record (one writer per entity: the replay read step). */
export async function recordReplay(target: SinkTarget, runId: string, record: ReplayRecord): Promise<void> {
  const lake = await openLake(target);
  await lake.writeText(runReplayPath(runId, record.entity), JSON.stringify(record, null, 2) + "\n");
}

export async function readReplayRecord(store: TextStore, runId: string, entity: string): Promise<ReplayRecord | undefined> {
  const text = await store.readText(runReplayPath(runId, entity)).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as ReplayRecord);
}

/**
 * After the run committed (and only then): each entity's pending replay record joins the
 * persisted set, so a later replay skips those letters. Entities without a record (not a
 * replay run) are left alone.
 */
export async function promoteReplayState(store: TextStore, runId: string, entities: readonly string[], now: Date = new Date()): Promise<void> {
  for (const entity of entities) {
    const record = await readReplayRecord(store, runId, entity);
    if (!record || record.replayed.length === 0) continue;
    const done = await readReplayed(store, record.source, entity);
    for (const id of record.replayed) done.add(id);
    const next: ReplayedState = { source: record.source, entity: entity, replayed: [...done].sort(), updated_at: now.toISOString() };
    await store.writeText(replayedStatePath(record.source, entity), JSON.stringify(next, null, 2) + "\n");
  }
}

requireForSerialization("api2lake/dist/sources/replay-state", { recordReplay: recordReplay, readReplayed: readReplayed });
