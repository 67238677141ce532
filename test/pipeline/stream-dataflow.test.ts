import { before, test } from "node:test";
import * as assert from "node:assert/strict";
import { Root } from "apache-beam";
import { Pipeline } from "apache-beam/internal/pipeline";
import * as runnerApi from "apache-beam/proto/beam_runner_api";
import { protos } from "@google-cloud/pubsub";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { compileEntityCleaner } from "../../pipeline/entity-cleaner";
import { buildStreamingGraph, dailyWindowingStrategy, eventTimeOf, eventTimestamp, DEFAULT_WINDOWING } from "../../pipeline/stream-dataflow";
import { streamingRunnerOptions, streamWindowing, subscriptionPath } from "../../pipeline/stream-command";
import { decodePubsubMessage, PUBSUB_READ_URN } from "../../sources/pubsub-native-read";
import type { SourceConfig } from "../../model/source-config";
import type { SinkTarget } from "../../model/backends";

/**
 * The unbounded graph of `api2lake stream --runner dataflow`, checked on its pipeline proto (no
 * runner runs a native Pub/Sub read here; deploy/dataflow-check/check-streaming.sh submits it
 * to Beam's Dataflow job service offline), and the pure pieces it is made of.
 */

let airquality: SourceConfig;
const target: SinkTarget = { kind: "gcp", project: "some-project", bucket: "some-bucket", datasetPrefix: "", bigtableInstance: "api2lake", location: "EU", timeoutMs: 60000, perWindow: true };
const subscription = "projects/some-project/subscriptions/readings-api2lake";

before(() => {
  Object.assign(process.env, demoEnvironment("http://127.0.0.1:9"));
  airquality = loadPreset("airquality");
});

function streamingProto(): runnerApi.Pipeline {
  const pipeline = new Pipeline();
  buildStreamingGraph(new Root(pipeline), { runId: "20240401T000000Z-abcdef", target: target, source: airquality, entity: "readings", subscription: subscription, windowing: DEFAULT_WINDOWING });
  return pipeline.getProto();
}

const firstInput = (p: runnerApi.Pipeline, t: runnerApi.PTransform) => p.components!.pcollections[Object.values(t.inputs)[0]];

test("the graph reads the subscription through the native Pub/Sub transform, unbounded, as Python's ReadFromPubSub writes it", () => {
  const p = streamingProto();
  const reads = Object.values(p.components!.transforms).filter((t) => t.spec?.urn === PUBSUB_READ_URN);
  assert.equal(reads.length, 1);
  assert.equal(reads[0].uniqueName, "ReadPubSub_readings");
  assert.deepEqual(Object.keys(reads[0].inputs), []);
  const payload = runnerApi.PubSubReadPayload.fromBinary(reads[0].spec!.payload);
  assert.deepEqual(
    { topic: payload.topic, subscription: payload.subscription, timestampAttribute: payload.timestampAttribute, idAttribute: payload.idAttribute, withAttributes: payload.withAttributes },
    { topic: "", subscription: subscription, timestampAttribute: "", idAttribute: "", withAttributes: true },
  );
  const out = p.components!.pcollections[Object.values(reads[0].outputs)[0]];
  assert.equal(out.isBounded, runnerApi.IsBounded_Enum.UNBOUNDED);
  assert.equal(p.components!.coders[out.coderId].spec!.urn, "beam:coder:bytes:v1");
});

test("every grouping of the entity branch runs in one-day event-time windows with 15-minute panes and 2 days of lateness", () => {
  const p = streamingProto();
  const groupings = Object.values(p.components!.transforms).filter((t) => t.spec?.urn === "beam:transform:group_by_key:v1");
  // Schema plan, dedupe, hub merge, station days, recompute signals, and one pane gather per sink (4 lake/warehouse sinks + errors).
  assert.equal(groupings.length, 10);
  for (const g of groupings) {
    const input = firstInput(p, g);
    const ws = p.components!.windowingStrategies[input.windowingStrategyId];
    assert.equal(input.isBounded, runnerApi.IsBounded_Enum.UNBOUNDED, g.uniqueName);
    assert.equal(ws.windowFn!.urn, "beam:window_fn:fixed_windows:v1", g.uniqueName);
    assert.equal(ws.allowedLateness, 172_800_000n, g.uniqueName);
    assert.equal(ws.accumulationMode, runnerApi.AccumulationMode_Enum.DISCARDING, g.uniqueName);
    assert.deepEqual(ws.trigger, dailyWindowingStrategy(DEFAULT_WINDOWING).trigger, g.uniqueName);
  }
  const sizeSeconds = runnerApi.WindowingStrategy.create(p.components!.windowingStrategies[firstInput(p, groupings[0]).windowingStrategyId]).windowFn!.payload;
  // FixedWindowsPayload { size: { seconds: 86400 } }, byte for byte what Python writes (check-streaming.sh).
  assert.deepEqual([...sizeSeconds], [0x0a, 0x04, 0x08, 0x80, 0xa3, 0x05, 0x12, 0x00]);
});

test("each sink of the streaming graph gathers a window pane before writing (one write per table and pane)", () => {
  const names = Object.values(streamingProto().components!.transforms).map((t) => t.uniqueName);
  const panes = names.filter((n) => n.endsWith("/PerPane/GatherPane")).map((n) => n.slice(0, -"/PerPane/GatherPane".length)).sort();
  assert.deepEqual(panes, ["WriteErrors(readings)", "WriteLake(deadletter/readings)", "WriteLake(processed/readings)", "WriteLake(raw/readings)", "WriteWarehouse(lake.readings)"]);
});

test("a reading's event time is its timestamp as the cleaning chain reads it (the station's zone)", () => {
  const entity = airquality.entities.readings;
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: airquality.maxRecordBytes });
  const record = (fields: Record<string, unknown>) => ({ source: "airquality", entity: "readings", record: fields as never, _source: "pubsub:airquality", _page: "m1", fetched_at: "2024-04-01T00:00:00.000Z" });
  // 283164601 reads in Europe/Rome (UTC+2 in summer); the other station in Africa/Abidjan (UTC).
  assert.equal(eventTimeOf(cleaner, entity, record({ station_id: "283164601", timestamp: "2024-06-30 23:30:00", co: 1 })), Date.UTC(2024, 5, 30, 21, 30));
  assert.equal(eventTimeOf(cleaner, entity, record({ station_id: "283181971", timestamp: "2024-06-30 23:30:00", co: 1 })), Date.UTC(2024, 5, 30, 23, 30));
  // A record that does not clean has no event time: it keeps its publish time (and is dead-lettered in the branch).
  assert.equal(eventTimeOf(cleaner, entity, record({ station_id: "283181971", timestamp: "not a time" })), undefined);
});

test("an event time older than the allowed lateness moves up to the oldest open window; others stay", () => {
  const publish = Date.UTC(2024, 3, 10, 12, 0);
  const w = { allowedLatenessMs: 2 * 86_400_000, firingDelayMs: 900_000 };
  assert.deepEqual(eventTimestamp(Date.UTC(2024, 3, 9, 1, 0), publish, w), { ms: Date.UTC(2024, 3, 9, 1, 0), clamped: false });
  assert.deepEqual(eventTimestamp(Date.UTC(2024, 3, 1), publish, w), { ms: publish - 2 * 86_400_000 + 60_000, clamped: true });
  assert.deepEqual(eventTimestamp(undefined, publish, w), { ms: publish, clamped: false });
});

test("a PubsubMessage from the native read becomes the stream's message; publish time falls back to the element's", () => {
  const bytes = protos.google.pubsub.v1.PubsubMessage.encode({ data: Buffer.from('{"a":"é"}', "utf8"), attributes: { id: "7" }, messageId: "m-1", publishTime: { seconds: 1_712_000_000, nanos: 5_000_000 } }).finish();
  assert.deepEqual(decodePubsubMessage(bytes, "2000-01-01T00:00:00.000Z"), { id: "m-1", data: '{"a":"é"}', publishTime: "2024-04-01T19:33:20.005Z", attributes: { id: "7" } });
  const bare = protos.google.pubsub.v1.PubsubMessage.encode({ data: Buffer.from("{}", "utf8") }).finish();
  assert.deepEqual(decodePubsubMessage(bare, "2024-04-02T00:00:00.000Z"), { id: "", data: "{}", publishTime: "2024-04-02T00:00:00.000Z", attributes: {} });
});

test("the streaming job's options: streaming, Streaming Engine, a stable job name, the launcher's JSON kept", () => {
  const saved = process.env.API2LAKE_DATAFLOW_OPTIONS;
  process.env.API2LAKE_DATAFLOW_OPTIONS = JSON.stringify({ templateLocation: "/tmp/t.json", experiments: ["enable_streaming_engine", "x"] });
  try {
    const o = streamingRunnerOptions({ runner: "dataflow", sink: "gcp", project: "some-project", bucket: "some-bucket" }, "Readings_2");
    assert.deepEqual(
      { jobName: o.jobName, runner: o.runner, streaming: o.streaming, enableStreamingEngine: o.enableStreamingEngine, experiments: o.experiments, templateLocation: o.templateLocation, stagingLocation: o.stagingLocation },
      { jobName: "api2lake-stream-readings-2", runner: "dataflow", streaming: true, enableStreamingEngine: true, experiments: ["x", "enable_streaming_engine", "enable_windmill_service"], templateLocation: "/tmp/t.json", stagingLocation: "gs://some-bucket/staging" },
    );
  } finally {
    if (saved === undefined) delete process.env.API2LAKE_DATAFLOW_OPTIONS;
    else process.env.API2LAKE_DATAFLOW_OPTIONS = saved;
  }
  assert.deepEqual(streamWindowing({ paneMinutes: 5, allowedLatenessHours: 24 }), { firingDelayMs: 300_000, allowedLatenessMs: 86_400_000 });
  assert.equal(subscriptionPath("readings", "p1"), "projects/p1/subscriptions/readings");
  assert.throws(() => subscriptionPath("readings", undefined), /needs --project/);
});
