import { test } from "node:test";
import * as assert from "node:assert/strict";
import { deadLetter } from "../../model/dead-letter";
import { failedScope, releasedKeys, scopeCovers } from "../../pipeline/aggregates";
import type { SensorAveragesConfig } from "../../transforms/sensor-averages";

const config: SensorAveragesConfig = {
  type: "sensor_daily_averages", stationField: "station_id", timestampField: "timestamp", zone: "Africa/Abidjan",
  stationZones: { ROME: "Europe/Rome" }, coField: "co", pm25Field: "pm2_5",
};

/** A fetch dead letter as sources/rest/fetch-pages.ts writes it: the request is the payload. */
const fetchFailure = (pathParams: Record<string, string>, slice: { start: string; end: string } | null) =>
  deadLetter({ stage: "fetch", error: "kept failing", payload: { method: "GET", url: "/x", entity: "readings", slice: slice, path_params: pathParams }, source: "/x", run_id: "r", entity: "readings" });

test("failedScope reads the station from the path parameter named like the station field, and the time from the slice", () => {
  const slice = { start: "2024-03-30T00:00:00.000Z", end: "2024-03-31T00:00:00.000Z" };
  assert.deepEqual(failedScope(fetchFailure({ station_id: "ROME" }, slice), "station_id"), { station: "ROME", startMs: Date.UTC(2024, 2, 30), endMs: Date.UTC(2024, 2, 31) });
  assert.deepEqual(failedScope(fetchFailure({ other: "x" }, null), "station_id"), {});
  assert.deepEqual(failedScope(fetchFailure({ station_id: "ROME" }, null), undefined), {});
  assert.deepEqual(failedScope({ ...fetchFailure({}, null), payload: "not json" }, "station_id"), {});
});

test("scopeCovers: a UTC slice covers each station's local days it overlaps (Rome is UTC+1 before 03-31 02:00)", () => {
  const scope = { station: "ROME", startMs: Date.UTC(2024, 2, 30), endMs: Date.UTC(2024, 2, 31) };
  const covered = (station: string, day: string) => scopeCovers(scope, { station_id: station, day: day }, config);
  // [03-30 00:00Z, 03-31 00:00Z) = Rome 03-30 01:00 .. 03-31 01:00.
  assert.deepEqual(["2024-03-29", "2024-03-30", "2024-03-31", "2024-04-01"].map((d) => covered("ROME", d)), [false, true, true, false]);
  assert.equal(covered("ABJ", "2024-03-30"), false, "another station");
  const anyStation = { startMs: Date.UTC(2024, 2, 30), endMs: Date.UTC(2024, 2, 31) };
  assert.deepEqual(["2024-03-29", "2024-03-30", "2024-03-31"].map((d) => scopeCovers(anyStation, { station_id: "ABJ", day: d }, config)), [false, true, false]);
  assert.equal(scopeCovers({}, { station_id: "ABJ", day: "2020-01-01" }, config), true, "an unscoped failure covers everything");
});

test("releasedKeys: nothing before the hub was written; covered keys withheld; whole-table products all or nothing", () => {
  const keys = [{ key: { station_id: "ROME", day: "2024-03-31" } }, { key: { station_id: "ABJ", day: "2024-03-30" } }, { key: { station_id: "ROME", day: "2024-03-29" } }];
  assert.equal(releasedKeys(config, keys), null);
  const failed = { failed: { station: "ROME", startMs: Date.UTC(2024, 2, 30), endMs: Date.UTC(2024, 2, 31) } };
  assert.deepEqual(releasedKeys(config, [...keys, { hubWritten: 3 }, failed]), {
    keys: [{ station_id: "ABJ", day: "2024-03-30" }, { station_id: "ROME", day: "2024-03-29" }],
    withheld: 1,
  });
  const jobs = { type: "jobs_by_location" as const, idField: "id", locationField: "location" };
  assert.deepEqual(releasedKeys(jobs, [{ hubWritten: 1 }]), { keys: undefined, withheld: 0 });
  assert.deepEqual(releasedKeys(jobs, [{ hubWritten: 1 }, { failed: {} }]), { keys: [], withheld: 1 });
});
