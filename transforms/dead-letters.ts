import { requireForSerialization } from "apache-beam/serialization";
import { split, withName, type PCollection } from "apache-beam";
import type { Row, Outcome } from "../model/row";
import { deadLetter, type DeadLetter, type Stage } from "../model/dead-letter";

/** A record a step refused, with the step and the specific reason. */
export interface Rejected {
  stage: Stage;
  reason: string;
  /** The record as the failing step received it (lineage columns included when present). */
  payload: unknown;
}

/** What a fallible DoFn emits: exactly one of `ok` or `failed`, routed by `split`. */
export type Tagged<T> = { ok: T } | { failed: Rejected };

export type Routed<T> = {
  ok: PCollection<T>;
  failed: PCollection<Rejected>;
};

/** Tags an Outcome for `split`. */
export function tag<T>(outcome: Outcome<T>, stage: Stage, payload: unknown): Tagged<T> {
  return outcome.ok ? { ok: outcome.value } : { failed: { stage: stage, reason: outcome.reason, payload: payload } };
}

/** `split` into `{ ok, failed }` under an explicit label. */
export function routeTagged<T>(label: string) {
  return withName(label, function routeTagged(input: PCollection<Tagged<T>>): Routed<T> {
    return input.apply(split(["ok", "failed"])) as unknown as Routed<T>;
  });
}

export interface DeadLetterContext {
  runId: string;
  entity: string;
  /** Used when the payload carries no `_source` of its own. */
  source: string;
  label?: string;
}

/** One dead letter from a rejected record: `_source` of the payload wins over the context's source. */
export function rejectedToDeadLetter(r: Rejected, ctx: DeadLetterContext): DeadLetter {
  const payload = r.payload as Row | null;
  const source = payload !== null && typeof payload === "object" && typeof payload._source === "string" ? payload._source : ctx.source;
  return deadLetter({ stage: r.stage, error: r.reason, payload: r.payload, source: source, run_id: ctx.runId, entity: ctx.entity });
}

/**
 * Turns rejected records into the one dead-letter envelope (model/dead-letter.ts).
 *
 * @example failed.apply(toDeadLetters({ runId: "r1", entity: "customers", source: "/customers" }))
 */
export function toDeadLetters(ctx: DeadLetterContext) {
  const plain: DeadLetterContext = { runId: ctx.runId, entity: ctx.entity, source: ctx.source };
  return withName(ctx.label ?? "BuildDeadLetters", function toDeadLetters(input: PCollection<Rejected>): PCollection<DeadLetter> {
    return input.map(function buildDeadLetter(r: Rejected) { return rejectedToDeadLetter(r, plain); });
  });
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/dead-letters", { tag: tag, rejectedToDeadLetter: rejectedToDeadLetter });
