import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import * as storage from "@google-cloud/storage";
import { startEmulators, type Emulators } from "../emulators/emulators";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import type { SourceConfig } from "../../model/source-config";
import type { SinkTarget } from "../../model/backends";
import type { ParsedOptions } from "../../pipeline/options";
import { bigQueryLandedState } from "../pipeline/snapshot";

/**
 * Runs compose on the emulators (issue 8): k backfills over the pieces of a range, or `--entities`
 * subsets one after another, leave the BigQuery hub and dataproducts exactly as one run does
 * (test/pipeline/runs-compose.test.ts proves the same on DuckDB). Neither preset here has serving
 * tables, so Bigtable is not started. Each sequence of runs gets its own bucket and dataset prefix.
 */

const HOUR = 3_600_000;
const ROME_STATION = "283164601";
let emu: Emulators;
let api: DemoApi;
let sequences = 0;

before(async () => {
  emu = await startEmulators(["gcs", "bigquery"]);
  // Readings from 2024-01-01 on, as in the DuckDB test: Rome's spring-forward day inside.
  api = await startDemoApi({ port: 0, sizes: { readingsDays: 120, stations: 2, products: 20, customers: 40, sales: 80 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => {
  await api?.close();
  await emu?.stop();
});

type GcpTarget = Extract<SinkTarget, { kind: "gcp" }>;

/** A fresh place for one sequence of runs: its own lake bucket and `s<n>_` datasets. */
async function freshTarget(): Promise<GcpTarget> {
  const n = sequences++;
  const bucket = `api2lake-compose-${n}`;
  await new storage.Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).createBucket(bucket);
  return { kind: "gcp", project: emu.project, bucket: bucket, datasetPrefix: `s${n}_`, bigtableInstance: "unused", location: "US", timeoutMs: 20_000 };
}

const options = (t: GcpTarget): ParsedOptions => ({
  sink: "gcp", project: t.project, bucket: t.bucket, datasetPrefix: t.datasetPrefix, location: "US", requestConcurrency: 4, runner: "direct", gcpTimeoutMs: 20000,
});

/**
 * The BigQuery emulator (v0.8.1) only grows its WebAssembly memory and panics after a few hundred
 * jobs in one process: every run and every snapshot starts on a restarted process (same port, same data).
 */
async function freshBigQuery(): Promise<void> {
  await emu.stop("bigquery");
  await emu.start("bigquery");
}

const iso = (ms: number) => new Date(ms).toISOString();

async function backfill(t: GcpTarget, source: SourceConfig, fromMs: number, toMs: number): Promise<void> {
  await freshBigQuery();
  const m = await executeRun({ sources: [source], entities: "ALL", from: iso(fromMs), to: iso(toMs), options: options(t) });
  assert.equal(m.status, "succeeded", `${iso(fromMs)}..${iso(toMs)}: ${m.errors.join("; ")}`);
}

async function runEntities(t: GcpTarget, source: SourceConfig, entities: string): Promise<void> {
  await freshBigQuery();
  const m = await executeRun({ sources: [source], entities: entities, options: options(t) });
  assert.equal(m.status, "succeeded", `--entities ${entities}: ${m.errors.join("; ")}`);
}

async function landed(t: GcpTarget): Promise<Record<string, string[]>> {
  await freshBigQuery();
  return bigQueryLandedState(t, emu.env.API2LAKE_BIGQUERY_ENDPOINT);
}

/** The airquality preset, whose readings are fetched in daily slices. */
function slicedAirquality(): SourceConfig {
  const source = loadPreset("airquality");
  // Daily slices are the preset's own (AirQino's start_date/end_date, yyyyMMdd-HHmm).
  assert.deepEqual(source.entities.readings.slices, { startParam: "start_date", endParam: "end_date", step: "P1D", format: "yyyyMMdd-HHmm" });
  return source;
}

/** Rome's station's readings on its local day 2024-03-30, from a landed state's daily averages. */
function romeReadings(state: Record<string, string[]>): unknown {
  const rows = (state["dataproducts.sensor_daily_averages"] ?? []).map((line) => Object.fromEntries(JSON.parse(line) as [string, unknown][]));
  return rows.find((r) => r.station_id === ROME_STATION && r.day === "2024-03-30")?.readings;
}

/** Runs the pieces between `bounds` into a fresh place, last piece first, and returns what they left. */
async function piecewise(source: SourceConfig, bounds: number[]): Promise<Record<string, string[]>> {
  const t = await freshTarget();
  const pieces = bounds.slice(1).map((end, i) => [bounds[i], end]);
  for (const p of [pieces[pieces.length - 1], ...pieces.slice(0, -1)]) await backfill(t, source, p[0], p[1]);
  return landed(t);
}

const FROM = Date.UTC(2024, 2, 28);
const TO = Date.UTC(2024, 3, 2);
let wholeAirquality: Record<string, string[]> | undefined;

/** One run over 2024-03-28..04-02, computed once for the fixed and the random cuts. */
async function airqualityWhole(): Promise<Record<string, string[]>> {
  if (!wholeAirquality) {
    const t = await freshTarget();
    await backfill(t, slicedAirquality(), FROM, TO);
    wholeAirquality = await landed(t);
    assert.deepEqual(Object.keys(wholeAirquality).sort(), ["dataproducts.sensor_daily_averages", "hub.readings"]);
    assert.ok(wholeAirquality["dataproducts.sensor_daily_averages"].length >= 10, "two stations x the range's local days");
    // The example: Rome's local day 2024-03-30 holds 24 readings.
    assert.equal(romeReadings(wholeAirquality), 24);
  }
  return wholeAirquality;
}

test("airquality on BigQuery: runs over 03-28..29, 03-30, 03-31..04-02 equal one run over 03-28..04-02", async () => {
  const expected = await airqualityWhole();
  const got = await piecewise(slicedAirquality(), [FROM, Date.UTC(2024, 2, 30), Date.UTC(2024, 2, 31), TO]);
  assert.equal(romeReadings(got), 24, "Rome's local 2024-03-30 after the pieces");
  assert.deepEqual(got, expected);
});

test("airquality on BigQuery: runs over random pieces (local and UTC midnights, the DST change among the cuts) equal one run", async () => {
  const expected = await airqualityWhole();
  // UTC midnights, Rome's local midnights (23:00Z before the change, 22:00Z after), the change itself (01:00Z).
  const special = [Date.UTC(2024, 2, 30), Date.UTC(2024, 2, 31), Date.UTC(2024, 2, 29, 23), Date.UTC(2024, 2, 30, 23), Date.UTC(2024, 2, 31, 22), Date.UTC(2024, 2, 31, 1)];
  const cut = fc.oneof(fc.constantFrom(...special), fc.integer({ min: 1, max: (TO - FROM) / HOUR - 1 }).map((h) => FROM + h * HOUR));
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(cut, { minLength: 1, maxLength: 2 }), async (cuts) => {
      const got = await piecewise(slicedAirquality(), [FROM, ...[...cuts].sort((a, b) => a - b), TO]);
      assert.deepEqual(got, expected, `cuts ${cuts.map(iso).join(", ")}`);
    }),
    { numRuns: 1, endOnFailure: true },
  );
});

test("commerce on BigQuery: --entities subsets run one after another equal one run of all entities", async () => {
  const source = loadPreset("commerce");
  const all = Object.keys(source.entities);
  const whole = await freshTarget();
  await runEntities(whole, source, "ALL");
  const expected = await landed(whole);
  for (const entity of all) assert.ok((expected[`hub.${entity}`] ?? []).length > 0, `hub.${entity} is empty after one run`);
  await fc.assert(
    fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), fc.integer({ min: 1, max: all.length - 1 }), async (order, split) => {
      const t = await freshTarget();
      await runEntities(t, source, order.slice(0, split).join(","));
      await runEntities(t, source, order.slice(split).join(","));
      assert.deepEqual(await landed(t), expected, `--entities ${order.slice(0, split)} then ${order.slice(split)}`);
    }),
    { numRuns: 1, endOnFailure: true },
  );
});
