import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { sourceSchema, type SourceConfigInput } from "../../model/source-config";
import { formatBound, sliceBoundProblem, sliceParams } from "../../sources/rest/slices";
import { requestValue } from "../../sources/rest/request-values";
import { lakeRows, sql } from "../golden/helpers";

/**
 * AirQino's real shape (issue 12): the header names the station without its id, the range
 * parameters are `start_date`/`end_date` written `yyyyMMdd-HHmm`. The preset takes the station
 * id from the request path and writes its daily slice bounds in that pattern.
 */

const ABIDJAN = "283181971";
const ROME = "283164601";
let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, seed: 42, sizes: { stations: 2, readingsDays: 3 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

test("slice bounds in a luxon pattern: written in UTC, refused where the pattern cannot hold them", () => {
  assert.equal(formatBound("2026-09-10T00:00:00.000Z", "yyyyMMdd-HHmm"), "20260910-0000");
  assert.deepEqual(
    sliceParams({ start: "2026-09-10T00:00:00.000Z", end: "2026-09-11T00:00:00.000Z" }, { startParam: "start_date", endParam: "end_date", format: "yyyyMMdd-HHmm" }),
    { start_date: "20260910-0000", end_date: "20260911-0000" },
  );
  assert.equal(sliceBoundProblem({ start: "2026-09-10T06:00:00.000Z", end: "2026-09-10T07:00:00.000Z" }, "yyyyMMdd-HH"), undefined);
  assert.equal(
    sliceBoundProblem({ start: "2026-09-10T06:30:00.000Z", end: "2026-09-10T07:00:00.000Z" }, "yyyyMMdd-HH"),
    "slice bound 2026-09-10T06:30:00.000Z cannot be written exactly as yyyyMMdd-HH (it reads back as 2026-09-10T06:00:00.000Z): align --from/--to and the step with the pattern",
  );
});

test("attach takes request values: {path.<name>} and {slice.start|end}; null when the request has none", () => {
  const request = { pathParams: { station_id: ROME }, slice: { start: "2024-01-01T00:00:00.000Z", end: "2024-01-02T00:00:00.000Z" } };
  assert.deepEqual(["{path.station_id}", "{slice.start}", "{slice.end}"].map((r) => requestValue(r, request)), [ROME, "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"]);
  assert.equal(requestValue("{slice.start}", { pathParams: {} }), null);
});

test("the config schema refuses request references the request cannot fill, and bound patterns that lose the day", () => {
  const base = (): SourceConfigInput => ({
    name: "aq", baseUrl: "http://x", publicVariables: ["PUBLIC_ID"],
    entities: { readings: { path: "/v3/getStationHourlyAvg/{station_id}", pathParams: { station_id: ["1"] }, primaryKey: ["station_id"], attach: { station_id: "{path.station_id}" } } },
  });
  assert.equal(sourceSchema.safeParse(base()).success, true);
  const issues = (edit: (c: SourceConfigInput) => void) => {
    const c = base();
    edit(c);
    const r = sourceSchema.safeParse(c);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  assert.deepEqual(issues((c) => (c.entities.readings.attach = { id: "{path.station}" })), ["entities.readings.attach.id: {path.station}: entity readings has no path parameter station (pathParams: station_id)"]);
  assert.deepEqual(issues((c) => (c.entities.readings.attach = { at: "{slice.start}" })), ["entities.readings.attach.at: {slice.start} needs slices on entity readings"]);
  assert.deepEqual(issues((c) => (c.entities.readings.attach = { at: "{request.url}" })), ['entities.readings.attach.at: "{request.url}" is not a request reference: use {path.<name>}, {slice.start} or {slice.end} (or a body path)']);
  assert.deepEqual(issues((c) => (c.entities.readings.pathParams = { station_id: ["${STATION_TOKEN}"] })), [
    "entities.readings.attach.station_id: {path.station_id}: its values come from ${STATION_TOKEN}, a secret, which must not land in records (list it in publicVariables if it is not secret)",
  ]);
  assert.deepEqual(issues((c) => (c.entities.readings.pathParams = { station_id: ["${PUBLIC_ID}"] })), []);
  const badPattern = "must be iso, date, epoch_ms or a luxon pattern that writes a time and reads it back (e.g. yyyyMMdd-HHmm)";
  assert.deepEqual(issues((c) => (c.entities.readings.slices = { startParam: "start_date", format: "HH:mm" })), [`entities.readings.slices.format: ${badPattern}`]);
  assert.deepEqual(issues((c) => (c.entities.readings.slices = { startParam: "start_date", format: "yyyyMMdd-HHmm" })), []);
});

test("airquality preset, AirQino shape end to end: station id from the path, start_date/end_date as yyyyMMdd-HHmm", async () => {
  const preset = loadPreset("airquality");
  assert.deepEqual(preset.entities.readings.attach, { station_id: "{path.station_id}" });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-airqino-"));
  const m = await executeRun({ sources: [preset], entities: "ALL", from: "2024-01-01", to: "2024-01-01", options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 2 } });
  assert.equal(m.status, "succeeded", m.errors.join("; "));

  // One daily slice [2024-01-01T00:00Z, 2024-01-02T00:00Z): the demo API answers only what the
  // bounds written as 20240101-0000 / 20240102-0000 ask, read in each station's zone.
  const raw = lakeRows(out, "raw", "readings");
  const seen = (station: string) => [...new Set(raw.filter((r) => r.station_id === station).map((r) => String(r.timestamp)))].sort();
  const hours = (day: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${day} ${String(from + i).padStart(2, "0")}:00:00`);
  assert.deepEqual(seen(ABIDJAN), hours("2024-01-01", 0, 23));
  assert.deepEqual(seen(ROME), [...hours("2024-01-01", 1, 23), "2024-01-02 00:00:00"]);
  assert.equal(raw.filter((r) => r.station_id !== ABIDJAN && r.station_id !== ROME).length, 0, "every record carries its path's station id");
  for (const r of raw) assert.equal(r._source, `/v3/getStationHourlyAvg/${String(r.station_id)}`);

  const hub = await sql(out, "SELECT station_id, min(\"timestamp\") AS first, max(\"timestamp\") AS last FROM hub.readings GROUP BY 1 ORDER BY 1");
  assert.deepEqual(hub.map((r) => [r.station_id, new Date(String(r.first)).getUTCHours(), new Date(String(r.last)).getUTCHours()]), [[ROME, 0, 23], [ABIDJAN, 0, 23]]);
  const days = await sql(out, "SELECT station_id, CAST(day AS VARCHAR) AS day FROM dataproducts.sensor_daily_averages ORDER BY 1, 2");
  assert.deepEqual(days.map((r) => `${String(r.station_id)} ${String(r.day)}`), [`${ROME} 2024-01-01`, `${ROME} 2024-01-02`, `${ABIDJAN} 2024-01-01`]);
  // The watermark-free backfill records the slice it fetched.
  const state = JSON.parse(fs.readFileSync(path.join(out, "state", "airquality", "readings.json"), "utf8")) as { fetched: { start: string; end: string }[] };
  assert.deepEqual(state.fetched, [{ start: "2024-01-01T00:00:00.000Z", end: "2024-01-02T00:00:00.000Z" }]);
});
