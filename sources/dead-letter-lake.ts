import * as crypto from "crypto";
import { impulse, parDo, split, withName, type Root } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import { deadLetter, type DeadLetter, type Stage } from "../model/dead-letter";
import type { Row } from "../model/row";
import type { SinkTarget } from "../model/backends";
import { openLake } from "../sinks/open-backends";
import { readReplayed, recordReplay, type ReplayRecord } from "./replay-state";
import type { ReadRestOutput } from "./rest/read-rest";
import type { PageSummary, RestElement, RestRecord } from "./rest/work-item";

/**
 * An entity's dead letters read back as records: what `api2lake replay --deadletters <entity>`
 * feeds into the same entity branch a REST read feeds, once the cause is fixed (e.g. the
 * config's validation). Letters come from the lake's `deadletter/<entity>/dt=.../*.ndjson`
 * files (the same on a local folder and on GCS); `lake.<entity>_error_records` holds the same
 * letters, deduplicated.
 *
 * Only letters whose payload is the record as the API sent it can be replayed: stages
 * `validate` and `normalize`. A `fetch` letter is a page that kept failing: its records were
 * never fetched, so only calling the API again (`api2lake run` for that range) brings them. A
 * `sink` or `aggregate` letter holds a landed row, not an API record: `api2lake run --from-raw`
 * rebuilds those layers. A `parse` letter was not a JSON object: nothing can make it a record.
 */

/** The stages whose dead letters carry the API record and can go through the pipeline again. */
export const REPLAYABLE_STAGES: readonly Stage[] = ["validate", "normalize"];

/** A stable id of one letter: sha256 (hex) of its envelope fields, in a fixed order. */
export function deadLetterId(letter: DeadLetter): string {
  const fields = [letter.failed_at, letter.stage, letter.error, letter.payload, letter.source, letter.run_id, letter.entity];
  return crypto.createHash("sha256").update(JSON.stringify(fields), "utf8").digest("hex");
}

/** The entity's dead-letter shards among committed lake paths, only run `run`'s when given; path order. */
export function deadLetterShardsOf(paths: readonly string[], entity: string, run?: string): string[] {
  const prefix = `deadletter/${entity}/dt=`;
  return paths
    .filter((p) => p.startsWith(prefix) && p.endsWith(".ndjson"))
    .filter((p) => run === undefined || p.slice(p.lastIndexOf("/") + 1).startsWith(`${run}-`))
    .sort();
}

export interface ReplayPlan {
  elements: RestElement[];
  record: ReplayRecord;
}

/**
 * Decides what a replay does with the letters of an entity (pure): each replayable letter not in
 * `done` becomes a record again - origin `_source` as the letter says, `_page` `deadletter
 * <run_id>`, fetched at the letter's `failed_at` - and its id is recorded as replayed; a letter
 * whose payload is not a JSON object (e.g. cut at the 1 MB payload cap) becomes a `parse` dead
 * letter of this run, recorded as replayed too (it would fail the same way every time); others
 * are counted per stage. A line that is not a letter is a `parse` dead letter naming file and line.
 */
export function planReplay(
  shards: readonly { path: string; text: string }[], done: ReadonlySet<string>,
  ids: { source: string; entity: string; runId: string; run?: string },
): ReplayPlan {
  const elements: RestElement[] = [];
  const replayed: string[] = [];
  const unreplayable: Record<string, number> = {};
  let alreadyReplayed = 0;
  const dead = (error: string, payload: unknown, source: string) =>
    elements.push({ deadLetter: deadLetter({ stage: "parse", error: error, payload: payload, source: source, run_id: ids.runId, entity: ids.entity }) });
  for (const shard of shards) {
    const lines = shard.text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      let letter: DeadLetter;
      try {
        letter = JSON.parse(lines[i]) as DeadLetter;
      } catch (error) {
        dead(`dead letter ${shard.path} line ${i + 1}: not JSON (${(error as Error).message})`, lines[i], shard.path);
        continue;
      }
      if (letter === null || typeof letter !== "object" || typeof letter.stage !== "string" || typeof letter.payload !== "string") {
        dead(`dead letter ${shard.path} line ${i + 1}: not a dead-letter envelope (stage and payload text expected)`, lines[i], shard.path);
        continue;
      }
      if (ids.run !== undefined && letter.run_id !== ids.run) continue;
      if (!REPLAYABLE_STAGES.includes(letter.stage)) {
        unreplayable[letter.stage] = (unreplayable[letter.stage] ?? 0) + 1;
        continue;
      }
      const id = deadLetterId(letter);
      if (done.has(id)) {
        alreadyReplayed++;
        continue;
      }
      replayed.push(id);
      let payload: unknown;
      try {
        payload = JSON.parse(letter.payload);
      } catch {
        payload = undefined;
      }
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
        const why = `dead letter of run ${letter.run_id} (${letter.stage}: ${letter.error}): its payload is not a JSON object, so it cannot be replayed`;
        dead(why, letter.payload, letter.source);
        continue;
      }
      const at = Number.isNaN(Date.parse(letter.failed_at)) ? new Date(0).toISOString() : new Date(letter.failed_at).toISOString();
      const record: RestRecord = {
        source: ids.source, entity: ids.entity, record: payload as Row, _source: letter.source, _page: `deadletter ${letter.run_id}`, fetched_at: at,
      };
      elements.push({ record: record });
    }
  }
  const record: ReplayRecord = {
    source: ids.source, entity: ids.entity, replayed: [...new Set(replayed)].sort(), unreplayable: unreplayable, alreadyReplayed: alreadyReplayed,
  };
  return { elements: elements, record: record };
}

/** Reads the entity's letters, skips those a committed replay took, records the run's pending replay (worker side). */
export async function replayDeadLetters(target: SinkTarget, ids: { source: string; entity: string; runId: string; run?: string }): Promise<RestElement[]> {
  const lake = await openLake(target);
  const shards: { path: string; text: string }[] = [];
  for (const p of deadLetterShardsOf(await lake.list(`deadletter/${ids.entity}/`), ids.entity, ids.run)) shards.push({ path: p, text: await lake.readShard(p) });
  const plan = planReplay(shards, await readReplayed(lake, ids.source, ids.entity), ids);
  await recordReplay(target, ids.runId, plan.record);
  return plan.elements;
}

/**
 * Reads an entity's dead letters into the graph, shaped as a REST read (`pages` always empty:
 * no request is made), so `entityBranch` runs unchanged. One step reads every letter: it is the
 * only writer of the run's pending replay record.
 */
export function readDeadLetterLake(target: SinkTarget, source: string, entity: string, options: { runId: string; run?: string }) {
  const base = { source: source, entity: entity, runId: options.runId };
  const ids = options.run === undefined ? base : { ...base, run: options.run };
  return withName(`ReadDeadLetters_${source}_${entity}`, function readDeadLetterSource(root: Root): Omit<ReadRestOutput, "cursors"> {
    const read = root
      .apply(withName("StartRead", impulse()))
      .apply(withName("ReplayDeadLetters", parDo({
        process: async function (_: Uint8Array) {
          return replayDeadLetters(target, ids);
        },
      })));
    const parts = read.apply(withName("SplitRead", split<{ record: RestRecord; page: PageSummary; deadLetter: DeadLetter }>(["record", "page", "deadLetter"])));
    return { records: parts.record, pages: parts.page, deadLetters: parts.deadLetter };
  });
}

requireForSerialization("api2lake/dist/sources/dead-letter-lake", {
  replayDeadLetters: replayDeadLetters, planReplay: planReplay, deadLetterId: deadLetterId, deadLetterShardsOf: deadLetterShardsOf,
});
