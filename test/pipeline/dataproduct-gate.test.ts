import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { openWarehouse } from "../../sinks/open-backends";

let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, sizes: { readingsDays: 3 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

async function averages(out: string): Promise<string> {
  const warehouse = await openWarehouse({ kind: "local", out: out });
  try {
    return JSON.stringify(await warehouse.query("SELECT * FROM dataproducts.sensor_daily_averages ORDER BY station_id, day"));
  } finally {
    await warehouse.close();
  }
}

test("a run whose pages kept failing fails and leaves the dataproducts as the last complete run left them", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-gate-"));
  const options = { out: out, runner: "direct" as const, requestConcurrency: 4 };
  // The preset's readings are sliced by day: from 2023-12-31 (Rome's first local hour is 23:00Z) through 2024-01-03.
  const range = { from: "2023-12-31", to: "2024-01-03" };
  const good = await executeRun({ sources: [loadPreset("airquality")], entities: "ALL", ...range, options: options });
  assert.equal(good.status, "succeeded", good.errors.join("; "));
  const complete = await averages(out);
  assert.equal(JSON.parse(complete).length, 6, "two stations x three days");

  // A backfill fetches only slices not fetched before: forget them, so the same range is fetched again.
  fs.rmSync(path.join(out, "state", "airquality", "readings.json"));
  api.setFaults([{ path: "/v3/getStationHourlyAvg/283164601", kind: "status", status: 500 }]);
  try {
    const partial = await executeRun({ sources: [loadPreset("airquality")], entities: "ALL", ...range, options: { ...options, requestConcurrency: 4 } });
    assert.equal(partial.status, "failed");
    assert.ok(partial.entities.readings.fetch_failed_pages > 0);
    assert.ok(partial.errors.some((e) => /kept failing/.test(e)));
    // The failed request names its station (path parameter station_id): only that station's
    // days are withheld; the other station's three days are recomputed from the hub.
    assert.equal(partial.dataproducts.sensor_daily_averages, 3);
  } finally {
    api.setFaults([]);
  }
  const after = JSON.parse(await averages(out)) as Record<string, unknown>[];
  const withoutRun = (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, _run_id: undefined }));
  assert.deepEqual(withoutRun(after), withoutRun(JSON.parse(complete)), "a partial read changed the daily averages");
  assert.deepEqual(after.map((r) => [r.station_id, r._run_id === JSON.parse(complete)[0]._run_id ? "first run" : "second run"]).sort(), [
    ["283164601", "first run"], ["283164601", "first run"], ["283164601", "first run"],
    ["283181971", "second run"], ["283181971", "second run"], ["283181971", "second run"],
  ]);
});

test("a failed slice withholds only the station's local days it overlaps; the rest is recomputed and the run fails", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-gate-slice-"));
  // The preset's own daily slices (start_date/end_date).
  const source = loadPreset("airquality");
  // The Rome station's first request is answered, every later one fails: one of its two daily
  // slices lands, the other fails. Either way exactly one Rome day (2024-01-02, 00:00 local at
  // 23:00Z) is in both, so it is withheld; the Abidjan station's two days are recomputed.
  api.setFaults([{ path: "/v3/getStationHourlyAvg/283164601", kind: "status", status: 500, afterRequests: 1 }]);
  try {
    const m = await executeRun({ sources: [source], entities: "ALL", from: "2024-01-01T00:00:00Z", to: "2024-01-03T00:00:00Z", options: { out: out, runner: "direct", requestConcurrency: 1 } });
    assert.equal(m.status, "failed");
    assert.equal(m.entities.readings.fetch_failed_pages, 1);
    assert.equal(m.entities.readings.dataproduct_keys_withheld, 1);
    assert.equal(m.dataproducts.sensor_daily_averages, 3);
  } finally {
    api.setFaults([]);
  }
  const rows = JSON.parse(await averages(out)) as Record<string, unknown>[];
  const keys = rows.map((r) => `${r.station_id} ${r.day}`);
  assert.deepEqual(keys.filter((k) => k.startsWith("283181971")), ["283181971 2024-01-01", "283181971 2024-01-02"]);
  const rome = keys.filter((k) => k.startsWith("283164601"));
  assert.equal(rome.length, 1);
  assert.ok(["283164601 2024-01-01", "283164601 2024-01-03"].includes(rome[0]), rome[0]);
});
