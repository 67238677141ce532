import Long = require("long");
import { parDo, split, withName, timestampParam, counter, type PCollection, type Root } from "apache-beam";
import type { Instant } from "apache-beam/values";
import { assignTimestamps, windowInto } from "apache-beam/transforms/window";
import { fixedWindows } from "apache-beam/transforms/windowings";
import * as runnerApi from "apache-beam/proto/beam_runner_api";
import { requireForSerialization } from "apache-beam/serialization";
import type { EntitySchema } from "../model/entity-schema";
import type { DeadLetter } from "../model/dead-letter";
import type { SinkTarget } from "../model/backends";
import type { EntityConfig, SourceConfig } from "../model/source-config";
import { messageToRecord } from "../sources/messages";
import { readPubSubNative, decodePubsubMessage } from "../sources/pubsub-native-read";
import { sealForWorkers } from "../sources/rest/secrets";
import type { RestRecord } from "../sources/rest/work-item";
import { compileEntityCleaner, type EntityCleaner } from "./entity-cleaner";
import { entityBranch, readFailuresOf } from "./graph";
import { applyCommitStage, type CommitSpec } from "./commit-stage";
import { counterName } from "./manifest";

/**
 * `api2lake stream --runner dataflow`: the same entity branch as every other run, fed by an
 * unbounded Pub/Sub read and cut into event-time days. Pure pieces first (event time, the
 * windowing strategy), then the graph.
 */

/** One window per UTC day (seconds, Beam's fixed-window unit). */
export const DAY_SECONDS = 86_400;

export interface StreamWindowing {
  /**
   * How long after its day ended a window still accepts records (ms). Beyond it Dataflow would
   * drop a record as too late; `eventTimestamp` moves such a record into a window still open.
   */
  allowedLatenessMs: number;
  /** Processing-time delay of the early panes and of the late panes (ms): bounds writes per table and day. */
  firingDelayMs: number;
}

/** 2 days of lateness, a pane every 15 minutes: at most 96 early + 1 + 192 late panes per table and day. */
export const DEFAULT_WINDOWING: StreamWindowing = { allowedLatenessMs: 2 * 86_400_000, firingDelayMs: 15 * 60_000 };

/**
 * The windowing strategy of the streaming graph, as Python's
 * `WindowInto(FixedWindows(86400), trigger=AfterWatermark(early=AfterProcessingTime(d),
 * late=AfterProcessingTime(d)), allowed_lateness=L, accumulation_mode=DISCARDING)` writes it
 * (compared by deploy/dataflow-check/check-streaming.sh). Each pane holds only the records that
 * arrived since the last one (DISCARDING); the sinks are idempotent per pane (hub merges move
 * versions forward, lake appends skip known payload hashes) and the daily averages are
 * recomputed from the hub for the days a pane touched, so several panes of a day add up to
 * one. `windowFn` and the coder ids are filled in by the SDK's `windowInto`.
 */
export function dailyWindowingStrategy(w: StreamWindowing): runnerApi.WindowingStrategy {
  const every = (ms: number): runnerApi.Trigger => ({
    trigger: {
      oneofKind: "afterProcessingTime",
      afterProcessingTime: { timestampTransforms: [{ timestampTransform: { oneofKind: "delay", delay: { delayMillis: BigInt(ms) } } }] },
    },
  });
  return runnerApi.WindowingStrategy.create({
    trigger: { trigger: { oneofKind: "afterEndOfWindow", afterEndOfWindow: { earlyFirings: every(w.firingDelayMs), lateFirings: every(w.firingDelayMs) } } },
    accumulationMode: runnerApi.AccumulationMode_Enum.DISCARDING,
    outputTime: runnerApi.OutputTime_Enum.END_OF_WINDOW,
    closingBehavior: runnerApi.ClosingBehavior_Enum.EMIT_ALWAYS,
    onTimeBehavior: runnerApi.OnTimeBehavior_Enum.FIRE_ALWAYS,
    allowedLateness: BigInt(w.allowedLatenessMs),
  });
}

/**
 * A record's event time (UTC ms): the entity's `eventDate` (else `orderBy`) field of the record
 * as the cleaning chain normalizes it (formats, zones, DST rules of the declaration), so the
 * window is the day the cleaned row says. `undefined` when the entity declares neither field, or
 * the record does not clean, or the field is empty (the record then keeps its publish time; the
 * branch dead-letters what does not clean).
 */
export function eventTimeOf(cleaner: EntityCleaner, entity: EntityConfig, record: RestRecord): number | undefined {
  const field = entity.eventDate ?? entity.orderBy;
  if (field === undefined) return undefined;
  const cleaned = cleaner.clean(record.record, { runId: "", source: record._source, page: record._page, fetchedAt: record.fetched_at });
  if (!cleaned.ok) return undefined;
  const value = cleaned.row[field];
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" || typeof value === "number" ? new Date(value).getTime() : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The element timestamp of a message's record (UTC ms): its event time, or its publish time
 * when it has none. An event time older than `publishMs - allowedLatenessMs` is moved up to that
 * bound (`clamped`): the watermark never passes a message's publish time before the message is
 * acked, so the record's window is still open and Dataflow cannot drop it as late. Its row keeps
 * its own date (the lake partition, the hub, the station day recomputed from the hub); only the
 * pane it travels in changes. Counted as `<entity>/event_time_clamped`.
 */
export function eventTimestamp(eventMs: number | undefined, publishMs: number, w: StreamWindowing): { ms: number; clamped: boolean } {
  if (eventMs === undefined) return { ms: publishMs, clamped: false };
  // One minute of margin for the watermark's own estimate.
  const oldest = publishMs - w.allowedLatenessMs + 60_000;
  return eventMs < oldest ? { ms: oldest, clamped: true } : { ms: eventMs, clamped: false };
}

/** A Beam instant from UTC ms (registered below: `Long` is not serializable as a closure value). */
export function instantOf(ms: number): Instant {
  return Long.fromNumber(ms);
}

export interface StreamingPlan {
  runId: string;
  /** A gcp target whose sinks write once per window pane (`perWindow`). */
  target: SinkTarget;
  source: SourceConfig;
  entity: string;
  /** `projects/<p>/subscriptions/<s>`. */
  subscription: string;
  /** The entity's persisted schema when the job was built (absent: none yet). */
  schema?: EntitySchema;
  windowing: StreamWindowing;
  /** What each pane's commit needs (pipeline/commit-stage.ts); absent: the graph commits nothing (tests of its shape). */
  commit?: CommitSpec;
}

type Parsed = { record: RestRecord } | { deadLetter: DeadLetter };
type Timed = { element: Parsed; ms: number };

/**
 * The unbounded graph: Pub/Sub (Dataflow's native read, acked on checkpoint) -> messages parsed
 * like the micro-batch stream (`messageToRecord`) -> event-time timestamps -> one-day windows ->
 * `entityBranch`, the cleaning, dedupe, sinks and aggregates every other run uses -> the commit
 * stage once per window pane. Parse failures travel in the same windows as dead letters.
 */
export function buildStreamingGraph(root: Root, plan: StreamingPlan): void {
  const name = plan.entity;
  const source = sealForWorkers(plan.source);
  const entity = source.entities[name];
  if (!entity) throw new Error(`--entity "${name}" is not in ${source.name} (entities: ${Object.keys(source.entities).join(", ")})`);
  const sourceName = source.name;
  const runId = plan.runId;
  const maxDepth = source.maxDepth;
  const maxRecordBytes = source.maxRecordBytes;
  const windowing = plan.windowing;
  const parts = root
    .apply(readPubSubNative(`ReadPubSub_${name}`, { subscription: plan.subscription }))
    .apply(withName(`ParseMessages_${name}`, parDo({
      process: function* (bytes: Uint8Array, ctx: { timestamp: { lookup: () => Instant } }) {
        const publishMs = Number(ctx.timestamp.lookup().toString());
        yield messageToRecord(decodePubsubMessage(bytes, new Date(publishMs).toISOString()), sourceName, name, runId, maxDepth) as Parsed;
      },
    }, { timestamp: timestampParam() })))
    .apply(withName(`EventTime_${name}`, parDo({
      process: function* (this: { cleaner?: EntityCleaner }, p: Parsed, ctx: { timestamp: { lookup: () => Instant }; clamped: { increment: (n: number) => void } }) {
        const publishMs = Number(ctx.timestamp.lookup().toString());
        if (!("record" in p)) {
          yield { element: p, ms: publishMs } as Timed;
          return;
        }
        if (this.cleaner === undefined) this.cleaner = compileEntityCleaner(entity, { maxRecordBytes: maxRecordBytes });
        const t = eventTimestamp(eventTimeOf(this.cleaner, entity, p.record), publishMs, windowing);
        if (t.clamped) ctx.clamped.increment(1);
        yield { element: p, ms: t.ms } as Timed;
      },
    }, { timestamp: timestampParam(), clamped: counter(counterName(name, "event_time_clamped")) })))
    .apply(withName(`AssignEventTime_${name}`, assignTimestamps((t: Timed) => instantOf(t.ms))))
    .apply(withName(`Untime_${name}`, parDo({
      process: function* (t: Timed) {
        yield t.element;
      },
    })))
    .apply(withName(`DailyWindows_${name}`, windowInto(fixedWindows(DAY_SECONDS), dailyWindowingStrategy(windowing))))
    .apply(withName(`SplitMessages_${name}`, split<{ record: RestRecord; deadLetter: DeadLetter }>(["record", "deadLetter"])));
  const fetchFailures = (parts.deadLetter as PCollection<DeadLetter>).apply(readFailuresOf(name));
  const graphPlan = { runId: runId, target: plan.target, maxWorkers: 1, runs: [] };
  const results = entityBranch(name, entity, source, parts.record as PCollection<RestRecord>, fetchFailures, graphPlan, plan.schema);
  // Each window pane commits what it wrote: its lake files become visible, its manifest is written.
  if (plan.commit) applyCommitStage(root, results, plan.commit, { perWindow: true });
}

requireForSerialization("api2lake/dist/pipeline/stream-dataflow", {
  eventTimeOf: eventTimeOf,
  eventTimestamp: eventTimestamp,
  instantOf: instantOf,
});
