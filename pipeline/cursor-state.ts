import { groupBy, parDo, withName, type PCollection } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import type { SinkTarget } from "../model/backends";
import { advanceCursors, foldCursorCandidates, type PendingCursors, type TextStore } from "../sources/rest/state";
import type { CursorCandidate } from "../sources/rest/work-item";
import { openLake } from "../sinks/open-backends";

/**
 * Incremental cursors are committed with the run, like schemas (pipeline/schema-state.ts): the graph
 * folds each incremental entity's cursor candidates (one per request series) and writes them as the
 * run's PENDING state under `runs/<run_id>/cursor/<entity>.json`; `promoteCursorState` moves them into
 * `state/<source>/<entity>.json` only once the run's sinks committed.
 */

/** The run's pending cursors of an entity. */
export function runCursorPath(runId: string, entity: string): string {
  return `runs/${runId}/cursor/${entity}.json`;
}

/** Writes the run's pending cursors of an entity (one writer per entity: the candidates are grouped first). */
export async function recordPendingCursors(target: SinkTarget, runId: string, pending: PendingCursors): Promise<void> {
  const lake = await openLake(target);
  await lake.writeText(runCursorPath(runId, pending.entity), JSON.stringify(pending, null, 2) + "\n");
}

export async function readPendingCursors(store: TextStore, runId: string, entity: string): Promise<PendingCursors | undefined> {
  const text = await store.readText(runCursorPath(runId, entity)).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as PendingCursors);
}

/**
 * After the run committed: each entity's pending cursors advance its committed state (never backwards).
 * Entities without pending cursors (not incremental, or no series ran) keep their state.
 */
export async function promoteCursorState(store: TextStore, runId: string, entities: readonly string[]): Promise<void> {
  for (const entity of entities) {
    const pending = await readPendingCursors(store, runId, entity);
    if (pending) await advanceCursors(store, pending);
  }
}

/**
 * The graph step that records the run's pending cursors: candidates grouped per entity, folded
 * (`foldCursorCandidates`), written. Its output (one element per recorded entity) is what a commit
 * step waits on before promoting.
 */
export function recordCursorCandidates(
  candidates: PCollection<CursorCandidate>, target: SinkTarget, runId: string, sourceName: string,
): PCollection<PendingCursors> {
  return candidates
    .apply(withName(`GroupCursorCandidates_${sourceName}`, groupBy((c: CursorCandidate) => c.entity)))
    .apply(withName(`RecordPendingCursors_${sourceName}`, parDo({
      process: async function (group: { key: string; value: Iterable<CursorCandidate> }) {
        const pending = foldCursorCandidates(sourceName, group.key, group.value);
        await recordPendingCursors(target, runId, pending);
        return [pending];
      },
    })));
}

// DoFns call these through the module (they open backends, whose classes cannot be serialized).
requireForSerialization("api2lake/dist/pipeline/cursor-state", {
  recordPendingCursors: recordPendingCursors, runCursorPath: runCursorPath,
});
