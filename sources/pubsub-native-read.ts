import { withName, type PCollection, type Root } from "apache-beam";
import type { Pipeline } from "apache-beam/internal/pipeline";
import { BytesCoder } from "apache-beam/coders/required_coders";
import * as runnerApi from "apache-beam/proto/beam_runner_api";
import { requireForSerialization } from "apache-beam/serialization";
import { protos } from "@google-cloud/pubsub";
import type { InboundMessage } from "./messages";

/**
 * Beam's standard URN for a Pub/Sub read that the runner implements itself (Beam's
 * `beam_runner_api.proto`, `StandardPTransforms.Composites.PUBSUB_READ`). Dataflow replaces it
 * with its native streaming source, as it does for Python's `ReadFromPubSub`
 * (`apache_beam/io/gcp/pubsub.py`, `_ReadFromPubSub.to_runner_api_parameter`): no expansion
 * service, no SDK code reads Pub/Sub, and messages are acked by Dataflow when the stage that
 * consumed them is checkpointed (never by api2lake).
 */
export const PUBSUB_READ_URN = "beam:transform:pubsub_read:v1";

export interface PubSubReadSpec {
  /** `projects/<p>/subscriptions/<s>` (the read keeps the subscription's backlog and acks). */
  subscription: string;
}

/**
 * The transform's payload as Python's `ReadFromPubSub(subscription=..., with_attributes=True)`
 * writes it: elements are serialized `google.pubsub.v1.PubsubMessage` protos (data, attributes,
 * message id, publish time). No `timestamp_attribute`: element timestamps are publish times,
 * which Dataflow's watermark tracks exactly; the event time is assigned later, from the cleaned
 * record (pipeline/stream-dataflow.ts). No `id_attribute`: Dataflow already drops redelivered
 * messages by message id, and the publisher's `id` attribute is the record's primary key, which
 * several versions of a record share (deduplicating on it would drop updates).
 */
export function pubSubReadPayload(spec: PubSubReadSpec): runnerApi.PubSubReadPayload {
  if (!/^projects\/[^/]+\/subscriptions\/[^/]+$/.test(spec.subscription)) {
    throw new Error(`Pub/Sub subscription "${spec.subscription}" must be a full path projects/<project>/subscriptions/<name>`);
  }
  return runnerApi.PubSubReadPayload.create({ subscription: spec.subscription, withAttributes: true });
}

/**
 * The unbounded read: a root transform with the native URN whose output is an UNBOUNDED
 * PCollection of serialized `PubsubMessage` bytes (`beam:coder:bytes:v1`, like Python's).
 * Only a runner that implements the URN (Dataflow) can run it; decode with `decodePubsubMessage`.
 */
export function readPubSubNative(label: string, spec: PubSubReadSpec) {
  const payload = runnerApi.PubSubReadPayload.toBinary(pubSubReadPayload(spec));
  return withName(label, function expandPubSubRead(_root: Root, pipeline: Pipeline, transformProto: runnerApi.PTransform): PCollection<Uint8Array> {
    // The transform keeps the default environment, as Python's does (Dataflow runs the read itself).
    transformProto.spec = runnerApi.FunctionSpec.create({ urn: PUBSUB_READ_URN, payload: payload });
    return pipeline.createPCollectionInternal(new BytesCoder(), undefined, runnerApi.IsBounded_Enum.UNBOUNDED);
  });
}

/**
 * A serialized `google.pubsub.v1.PubsubMessage` as the stream's message shape. The body is
 * decoded as UTF-8 (invalid bytes become U+FFFD and the JSON parse that follows refuses what
 * is not JSON). `fallbackPublishTime` (ISO 8601 UTC: the element's timestamp, which is the
 * publish time) stands in when the runner did not fill `publish_time`; an absent message id
 * becomes "" (the record's `_page`).
 */
export function decodePubsubMessage(bytes: Uint8Array, fallbackPublishTime: string): InboundMessage {
  const m = protos.google.pubsub.v1.PubsubMessage.decode(bytes);
  const seconds = m.publishTime?.seconds;
  const ms = seconds === undefined || seconds === null ? NaN : Number(String(seconds)) * 1000 + Math.floor((m.publishTime?.nanos ?? 0) / 1e6);
  const attributes: Record<string, string> = {};
  for (const key of Object.keys(m.attributes ?? {})) attributes[key] = String((m.attributes ?? {})[key]);
  return {
    id: m.messageId ?? "",
    data: Buffer.from(m.data ?? new Uint8Array()).toString("utf8"),
    publishTime: Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : fallbackPublishTime,
    attributes: attributes,
  };
}

requireForSerialization("api2lake/dist/sources/pubsub-native-read", { decodePubsubMessage: decodePubsubMessage });
