import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as fc from "fast-check";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import type { SourceConfig } from "../../model/source-config";
import { landedState } from "./snapshot";

/**
 * Runs compose: k backfills over the pieces of a range leave the hub and the dataproducts
 * exactly as one backfill over the whole range (DuckDB, real direct-runner runs against the
 * demo API). Cut points are random hours, with local midnight (Europe/Rome), UTC midnight and
 * the DST-change days always among the candidates.
 */

const HOUR = 3_600_000;
let api: DemoApi;
before(async () => {
  // Readings from 2024-01-01 through 2024-11-25: both of Rome's 2024 DST changes inside.
  api = await startDemoApi({ port: 0, sizes: { readingsDays: 330, stations: 2, products: 20, customers: 40, sales: 80, drivers: 20, vehicleStatsPerDay: 24 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

/** The airquality preset, whose readings are fetched in daily slices. */
function slicedAirquality(): SourceConfig {
  const source = loadPreset("airquality");
  // Daily slices are the preset's own (AirQino's start_date/end_date, yyyyMMdd-HHmm).
  assert.deepEqual(source.entities.readings.slices, { startParam: "start_date", endParam: "end_date", step: "P1D", format: "yyyyMMdd-HHmm" });
  return source;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function backfill(out: string, source: SourceConfig, fromMs: number, toMs: number): Promise<void> {
  const m = await executeRun({ sources: [source], entities: "ALL", from: iso(fromMs), to: iso(toMs), options: { out: out, runner: "direct", requestConcurrency: 4 } });
  assert.equal(m.status, "succeeded", `${iso(fromMs)}..${iso(toMs)}: ${m.errors.join("; ")}`);
}

async function runEntities(out: string, source: SourceConfig, entities: string): Promise<void> {
  const m = await executeRun({ sources: [source], entities: entities, options: { out: out, runner: "direct", requestConcurrency: 4 } });
  assert.equal(m.status, "succeeded", `--entities ${entities}: ${m.errors.join("; ")}`);
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-compose-"));

interface RangeCase {
  name: string;
  fromMs: number;
  toMs: number;
  /** Cuts every sample may draw besides random hours. */
  special: number[];
}

const CASES: RangeCase[] = [
  {
    name: "2024-03-28..04-02 (Rome springs forward on 03-31)",
    fromMs: Date.UTC(2024, 2, 28),
    toMs: Date.UTC(2024, 3, 2),
    // UTC midnights, Rome's local midnights (23:00Z before the change, 22:00Z after), the change itself (01:00Z).
    special: [Date.UTC(2024, 2, 30), Date.UTC(2024, 2, 31), Date.UTC(2024, 2, 29, 23), Date.UTC(2024, 2, 30, 23), Date.UTC(2024, 2, 31, 22), Date.UTC(2024, 2, 31, 1)],
  },
  {
    name: "2024-10-25..10-29 (Rome falls back on 10-27)",
    fromMs: Date.UTC(2024, 9, 25),
    toMs: Date.UTC(2024, 9, 29),
    special: [Date.UTC(2024, 9, 27), Date.UTC(2024, 9, 28), Date.UTC(2024, 9, 26, 22), Date.UTC(2024, 9, 27, 23), Date.UTC(2024, 9, 27, 1)],
  },
];

for (const c of CASES) {
  test(`airquality ${c.name}: k runs over random pieces equal one run over the range`, async () => {
    const source = slicedAirquality();
    const whole = tmp();
    await backfill(whole, source, c.fromMs, c.toMs);
    const expected = await landedState({ kind: "local", out: whole });
    assert.ok(expected["dataproducts.sensor_daily_averages"].length >= 8, "two stations x the range's local days");
    // The example: Rome's local day 2024-03-30 holds 24 readings.
    if (c.fromMs === Date.UTC(2024, 2, 28)) {
      const rome = expected["dataproducts.sensor_daily_averages"].map((r) => JSON.parse(r)).find((r) => r.station_id === "283164601" && r.day === "2024-03-30");
      assert.equal(rome?.readings, 24);
    }
    const hours = (c.toMs - c.fromMs) / HOUR;
    const cut = fc.oneof(fc.constantFrom(...c.special), fc.integer({ min: 1, max: hours - 1 }).map((h) => c.fromMs + h * HOUR));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(cut, { minLength: 1, maxLength: 3 }), async (cuts) => {
        const bounds = [c.fromMs, ...[...cuts].sort((a, b) => a - b), c.toMs];
        const out = tmp();
        // Pieces in a shuffled-looking but fixed order: last piece first, then the rest.
        const pieces = bounds.slice(1).map((end, i) => [bounds[i], end]);
        for (const p of [pieces[pieces.length - 1], ...pieces.slice(0, -1)]) await backfill(out, source, p[0], p[1]);
        assert.deepEqual(await landedState({ kind: "local", out: out }), expected, `cuts ${cuts.map(iso).join(", ")}`);
      }),
      { numRuns: 2, endOnFailure: true },
    );
  });
}

test("fleet 2024-03-30..04-01: k runs over random pieces of the vehicle stats' range equal one run", async () => {
  const source = loadPreset("fleet");
  const fromMs = Date.UTC(2024, 2, 30);
  const toMs = Date.UTC(2024, 3, 1);
  const whole = tmp();
  await backfill(whole, source, fromMs, toMs);
  const expected = await landedState({ kind: "local", out: whole });
  assert.ok(expected["hub.vehicle_stats"].length > 0);
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.constant(Date.UTC(2024, 2, 31)), fc.integer({ min: 1, max: 47 }).map((h) => fromMs + h * HOUR)), async (cut) => {
      const out = tmp();
      await backfill(out, source, cut, toMs);
      await backfill(out, source, fromMs, cut);
      assert.deepEqual(await landedState({ kind: "local", out: out }), expected, `cut ${iso(cut)}`);
    }),
    { numRuns: 1, endOnFailure: true },
  );
});

test("commerce: --entities subsets run one after another equal one run of all entities", async () => {
  const source = loadPreset("commerce");
  const all = Object.keys(source.entities);
  const whole = tmp();
  await runEntities(whole, source, "ALL");
  const expected = await landedState({ kind: "local", out: whole });
  assert.deepEqual(Object.keys(expected).filter((k) => k.startsWith("hub.")).length >= all.length, true);
  await fc.assert(
    fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), fc.integer({ min: 1, max: all.length - 1 }), async (order, split) => {
      const out = tmp();
      await runEntities(out, source, order.slice(0, split).join(","));
      await runEntities(out, source, order.slice(split).join(","));
      assert.deepEqual(await landedState({ kind: "local", out: out }), expected, `--entities ${order.slice(0, split)} then ${order.slice(split)}`);
    }),
    { numRuns: 1, endOnFailure: true },
  );
});
