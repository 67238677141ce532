import { impulse, parDo, split, withName, type PCollection, type Root } from "apache-beam";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import type { RestRecord } from "./rest/work-item";
import { DEFAULT_MAX_DEPTH, parseJson, takeMarkers, originalText } from "./rest/json-body";
import { requireForSerialization } from "apache-beam/serialization";

/** A message as it arrives from Pub/Sub (or any queue): plain data, safe to capture. */
export interface InboundMessage {
  id: string;
  /** The message body as UTF-8 text (one JSON record). */
  data: string;
  publishTime: string;
  attributes: Record<string, string>;
}

/** What the stream loop needs from a subscription: pull a bounded batch, then settle it. */
export interface MessageSubscription {
  pull(maxMessages: number): Promise<{ messages: InboundMessage[]; ackIds: string[] }>;
  ack(ackIds: readonly string[]): Promise<void>;
  /** Asks for redelivery now (the batch did not land). */
  nack(ackIds: readonly string[]): Promise<void>;
}

/**
 * What a message becomes: a record for the entity branch, or a `parse` dead letter (malformed JSON,
 * not an object, nested deeper than `maxDepth`). Bodies are parsed like REST pages (`parseJson`):
 * big integers as exact strings, bare non-finite tokens as null (counted in `non_finite_nulled`).
 */
export function messageToRecord(message: InboundMessage, source: string, entity: string, runId: string, maxDepth: number = DEFAULT_MAX_DEPTH): { record: RestRecord } | { deadLetter: DeadLetter } {
  const refuse = (reason: string, payload: string) => ({ deadLetter: deadLetter({ stage: "parse", error: reason, payload: payload, source: `pubsub:${source}`, run_id: runId, entity: entity }) });
  const parsed = parseJson(message.data, { recordLevel: 1, maxDepth: maxDepth });
  if (!parsed.ok) return refuse(`malformed JSON: ${parsed.reason}`, message.data);
  const value = parsed.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return refuse("not a JSON object", message.data);
  const markers = takeMarkers(value, parsed);
  if (markers.tooDeep) return refuse(`record nested deeper than ${maxDepth} levels`, originalText(value, parsed));
  const record: RestRecord = { source: source, entity: entity, record: value as RestRecord["record"], _source: `pubsub:${source}`, _page: message.id, fetched_at: message.publishTime };
  if (markers.nonFinite) record.non_finite_nulled = markers.nonFinite;
  return { record: record };
}

/**
 * The records of one micro-batch of messages, shaped like the REST read's output so the same
 * entity branch cleans and lands them. The batch is small (bounded by --batchSize), so it
 * travels inside the graph; each message id becomes the record's `_page`.
 */
export function readMessages(label: string, messages: readonly InboundMessage[], options: { source: string; entity: string; runId: string; maxDepth?: number }) {
  const batch = messages.map((m) => ({ id: m.id, data: m.data, publishTime: m.publishTime, attributes: { ...m.attributes } }));
  const source = options.source;
  const entity = options.entity;
  const runId = options.runId;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  return withName(label, function readMessageBatch(root: Root): { records: PCollection<RestRecord>; deadLetters: PCollection<DeadLetter> } {
    const parts = root
      .apply(withName("StartBatch", impulse()))
      .apply(withName("ParseMessages", parDo({
        process: function* (_: Uint8Array) {
          for (const m of batch) yield messageToRecord(m, source, entity, runId, maxDepth);
        },
      })))
      .apply(withName("SplitMessages", split<{ record: RestRecord; deadLetter: DeadLetter }>(["record", "deadLetter"])));
    return { records: parts.record, deadLetters: parts.deadLetter };
  });
}

requireForSerialization("api2lake/dist/sources/messages", { messageToRecord: messageToRecord });
