/**
 * Messy values on the real direct runner, end to end (REST read -> cleaner -> dedupe -> lake,
 * hub, serving store, dataproducts): DST wall times and sentinels through the airquality preset,
 * big integers through a small source. Each API is a local server serving fixed bodies, so
 * every expected value below is written out by hand.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServer, json } from "../rest/helpers";
import { demoEnvironment } from "../../pipeline/demo-command";
import { executeRun, sinkTarget } from "../../pipeline/run";
import { startStream } from "../../pipeline/stream";
import type { InboundMessage } from "../../sources/messages";
import { loadPreset } from "../../pipeline/presets";
import { sourceSchema, type SourceConfig } from "../../model/source-config";
import { openServingStore } from "../../sinks/open-backends";
import type { RunManifest } from "../../pipeline/manifest";
import { lakeRows, sql, assertRunSucceeded } from "./helpers";

const ABIDJAN = "283181971"; // preset default zone Africa/Abidjan (UTC+0, no DST)
const ROME = "283164601"; // Europe/Rome: clocks go back at 03:00 on 2024-10-27, forward at 02:00 on 2024-03-31

type Reading = Record<string, unknown>;
const reading = (timestamp: string, co: unknown, pm25: unknown, extra: Reading = {}): Reading =>
  Object.assign({ timestamp: timestamp, CO: co, "PM2.5": pm25, PM10: 20, NO2: 30, O3: 40, T: 10, "T. int.": 15, RH: 50 }, extra);

/** The Rome page, in page order: the fall-back night, a sentinel day, a spring-forward gap. */
const ROME_READINGS: Reading[] = [
  reading("2024-10-27 01:00:00", 1, 10),
  reading("2024-10-27 02:00:00", 2, 20), // still summer time: 00:00Z
  reading("2024-10-27 02:00:00", 4, 40), // the same wall time an hour later: 01:00Z
  reading("2024-10-27 03:00:00", -999, 30), // CO missing (sentinel), PM2.5 still counts
  reading("2024-10-28 10:00:00", "n/a", 20, { RH: "n/a" }),
  reading("2024-10-28 11:00:00", 3, -999),
  reading("2024-03-31 01:00:00", 1, 5),
  reading("2024-03-31 02:30:00", 9, 99), // never happened in Rome: dead-lettered
  reading("2024-03-31 03:00:00", 3, 15),
];

/** The Abidjan page: the same wall time twice is one reading sent twice (no DST there). */
const ABIDJAN_READINGS: Reading[] = [
  reading("2024-10-27 02:00:00", 2, 20),
  reading("2024-10-27 02:00:00", 2, 20),
  reading("2024-10-27 03:00:00", 4, 40),
];

async function runWith(config: (url: string) => SourceConfig, handler: (url: string) => unknown, range: { from?: string; to?: string } = {}): Promise<{ out: string; manifest: RunManifest }> {
  const server = await startServer((req, res) => {
    const body = handler(req.url ?? "/");
    if (body === undefined) json(res, { error: "not found" }, 404);
    else json(res, body);
  });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-messy-values-"));
  try {
    const manifest = await executeRun({ sources: [config(server.url)], entities: "ALL", ...range, options: { out: out, runner: "direct" as const, sink: "local", requestConcurrency: 4 } });
    return { out: out, manifest: manifest };
  } finally {
    await server.close();
  }
}

test("airquality preset: DST overlap readings are four instants, a gap is dead-lettered, sentinels keep the other values", async () => {
  const run = await runWith(
    (url) => {
      Object.assign(process.env, demoEnvironment(url));
      return loadPreset("airquality");
    },
    (url) => {
      const station = /^\/v3\/getStationHourlyAvg\/(\d+)/.exec(url)?.[1];
      // AirQino's header has no station id: the preset takes it from the path.
      if (station === ROME) return { header: { station_name: "Rome" }, data: ROME_READINGS };
      if (station === ABIDJAN) return { header: { station_name: "Abidjan" }, data: ABIDJAN_READINGS };
      return undefined;
    },
    // The preset's readings are sliced by day: one slice, answered with the whole page by this stub.
    { from: "2024-01-01", to: "2024-01-01" },
  );
  assertRunSucceeded(run.manifest);
  const m = run.manifest.entities.readings;
  assert.deepEqual(
    [m.fetched, m.valid, m.normalize_failed, m.validate_failed, m.kept, m.duplicates, m.dst_overlap_later, m.dst_gap_rejected, m.sentinel_nulled],
    [12, 11, 1, 0, 10, 1, 1, 1, 4],
  );

  const hub = await sql(run.out, `SELECT strftime("timestamp", '%Y-%m-%dT%H:%M:%SZ') AS ts, co, pm2_5, rh FROM hub.readings WHERE station_id = '${ROME}' ORDER BY "timestamp"`);
  assert.deepEqual(hub.map((r) => [r.ts, r.co, r.pm2_5, r.rh]), [
    ["2024-03-31T00:00:00Z", 1, 5, 50],
    ["2024-03-31T01:00:00Z", 3, 15, 50],
    ["2024-10-26T23:00:00Z", 1, 10, 50],
    ["2024-10-27T00:00:00Z", 2, 20, 50],
    ["2024-10-27T01:00:00Z", 4, 40, 50],
    ["2024-10-27T02:00:00Z", null, 30, 50],
    ["2024-10-28T09:00:00Z", null, 20, null],
    ["2024-10-28T10:00:00Z", 3, null, 50],
  ]);

  const days = await sql(run.out, "SELECT station_id, CAST(day AS VARCHAR) AS day, co_avg, pm25_avg, readings FROM dataproducts.sensor_daily_averages ORDER BY station_id, day");
  assert.deepEqual(days.map((r) => [r.station_id, r.day, r.co_avg, r.pm25_avg, Number(r.readings)]), [
    [ROME, "2024-03-31", 2, 10, 2],
    [ROME, "2024-10-27", 7 / 3, 25, 4],
    [ROME, "2024-10-28", 3, 20, 2],
    [ABIDJAN, "2024-10-27", 3, 30, 2],
  ]);

  const dead = lakeRows(run.out, "deadletter", "readings");
  assert.deepEqual(dead.map((d) => [d.stage, d.error, JSON.parse(String(d.payload)).timestamp]), [
    ["normalize", 'field "timestamp": wall time 2024-03-31 02:30:00 does not exist in Europe/Rome (spring-forward gap)', "2024-03-31 02:30:00"],
  ]);
  // the raw layer keeps every reading as sent, the sentinels and both 02:00 readings included
  const raw = lakeRows(run.out, "raw", "readings").filter((r) => r.station_id === ROME);
  assert.equal(raw.length, ROME_READINGS.length);
  assert.deepEqual(raw.filter((r) => r.timestamp === "2024-10-27 02:00:00").map((r) => r.CO).sort(), [2, 4]);
  assert.equal(raw.find((r) => r.timestamp === "2024-10-27 03:00:00")?.CO, -999);
});

const BIG_IDS: unknown[] = ["1234567890123456789", "1234567890123456790", "9007199254740993", 9007199254740992];

test("integers beyond 2^53 (as the lossless reader hands them over) stay four exact rows in raw, hub, serving rows and keys", async () => {
  const run = await runWith(
    (url) => sourceSchema.parse({
      name: "ledger",
      baseUrl: url,
      entities: {
        accounts: {
          path: "/accounts",
          primaryKey: ["id"],
          fields: { id: { type: "integer", required: true }, ref: { type: "string" }, balance: { type: "number" } },
          serving: { table: "accounts", rowKey: "{id}", families: { a: {} }, columns: { id: "a:id:int64", ref: "a:ref:string" } },
        },
      },
    }),
    (url) => (url.startsWith("/accounts") ? { data: BIG_IDS.map((id, i) => ({ id: id, ref: id, balance: i === 0 ? "1234567890123456789" : i })) } : undefined),
  );
  assertRunSucceeded(run.manifest);
  const m = run.manifest.entities.accounts;
  assert.deepEqual([m.fetched, m.valid, m.kept, m.duplicates, m.precision_lost], [4, 4, 4, 0, 1]);
  const exact = ["1234567890123456789", "1234567890123456790", "9007199254740992", "9007199254740993"];

  const raw = lakeRows(run.out, "raw", "accounts");
  // 2^53 is sent as a bare JSON number: the lossless reader hands it over as exact text too
  assert.deepEqual(raw.map((r) => r.id).sort(), exact);
  assert.equal(new Set(raw.map((r) => r._payload_hash)).size, 4);

  const hub = await sql(run.out, "SELECT CAST(id AS VARCHAR) AS id, typeof(id) AS t, ref, balance FROM hub.accounts ORDER BY hub.accounts.id");
  assert.deepEqual(hub.map((r) => [r.id, r.t, r.ref, r.balance]), [
    ["9007199254740992", "BIGINT", "9007199254740992", 3],
    ["9007199254740993", "BIGINT", "9007199254740993", 2],
    // a number field lands the nearest double (counted as precision_lost)
    ["1234567890123456789", "BIGINT", "1234567890123456789", 1234567890123456800],
    ["1234567890123456790", "BIGINT", "1234567890123456790", 1],
  ]);

  const store = await openServingStore({ kind: "local", out: run.out });
  try {
    const rows = await store.read("accounts", { prefix: "", limit: 100 });
    assert.deepEqual(rows.map((r) => r.key).sort(), exact);
    assert.deepEqual(rows.map((r) => String(r.cells.a.id.value)).sort(), exact);
  } finally {
    await store.close();
  }
});

test("one record that makes the cleaner throw is an unprocessable dead letter; the others land", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-unprocessable-"));
  const options = { out: out, runner: "direct" as const, sink: "local" as const };
  const source = sourceSchema.parse({ name: "events", baseUrl: "http://127.0.0.1:9", entities: { events: { path: "/events", primaryKey: ["id"] } } });
  const message = (id: number, publishTime: string): InboundMessage => ({ id: `m${id}`, data: JSON.stringify({ id: id, n: id * 10 }), publishTime: publishTime, attributes: {} });
  // a publish time that is no time reaches the lineage step, which throws on it
  const batch = [message(1, "2026-01-01T00:00:00Z"), message(2, "not a time"), message(3, "2026-01-01T00:00:01Z")];
  let pulled = false;
  const manifests: RunManifest[] = [];
  const stream = startStream({
    pull: async () => {
      if (pulled) return { messages: [], ackIds: [] };
      pulled = true;
      return { messages: batch, ackIds: batch.map((m) => m.id) };
    },
    ack: async () => undefined,
    nack: async () => undefined,
  }, { source: source, entity: "events", target: sinkTarget(options), options: options, batchSize: 10, maxBatches: 1, onBatch: (m) => manifests.push(m) });
  const done = await stream.done;
  assert.deepEqual(done, { batches: 1, messages: 3, failedBatches: 0 });
  assertRunSucceeded(manifests[0]);
  const m = manifests[0].entities.events;
  assert.deepEqual([m.fetched, m.valid, m.normalize_failed, m.unprocessable, m.kept], [3, 2, 1, 1, 2]);
  const dead = lakeRows(out, "deadletter", "events");
  assert.deepEqual(dead.map((d) => [d.stage, d.error, JSON.parse(String(d.payload))]), [["normalize", 'unprocessable: lineage: ingestedAt "not a time" is not a date', { id: 2, n: 20 }]]);
  const hub = await sql(out, "SELECT id, n FROM hub.events ORDER BY id");
  // undeclared integers are inferred as integers (the entity's schema)
  assert.deepEqual(hub.map((r) => [r.id, r.n]), [[1, 10], [3, 30]]);
});
