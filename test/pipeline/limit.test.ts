import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi } from "../../sources/demo-api/index";
import { executeRun } from "../../pipeline/run";
import { loadSourceConfig } from "../../sources/rest/config-loader";
import { statePath } from "../../sources/rest/state";
import { takeRecords, recordsLeft } from "../../sources/rest/record-limit";
import { sql } from "../golden/helpers";

test("record budget: grants what is left, then nothing; keys are separate", () => {
  assert.equal(takeRecords("r/s/a", 5, 3), 3);
  assert.equal(takeRecords("r/s/a", 5, 3), 2);
  assert.equal(takeRecords("r/s/a", 5, 3), 0);
  assert.equal(recordsLeft("r/s/a", 5), 0);
  assert.equal(takeRecords("r/s/b", 5, 1), 1);
  assert.equal(recordsLeft("r/s/b", 5), 4);
});

test("run --limit: at most N records per entity across concurrent slices, manifest says so, no state advanced", async () => {
  const api = await startDemoApi({ seed: 42 });
  const env = { API2LAKE_DEMO_URL: api.url, API2LAKE_DEMO_TOKEN: "demo-token" };
  Object.assign(process.env, env);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-limit-"));
  try {
    const source = loadSourceConfig("presets/fleet.yaml", { env: env });
    const range = { from: "2024-01-02", to: "2024-01-04" };
    const limited = await executeRun({
      sources: [source], entities: "vehicle_stats", ...range,
      options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 3, limit: 50, ...range },
    });
    assert.equal(limited.status, "succeeded", limited.errors.join("; "));
    assert.equal(limited.limited_to, 50);
    assert.equal(limited.entities.vehicle_stats.fetched, 50);
    assert.deepEqual(await sql(out, "SELECT count(*)::INTEGER AS n FROM lake.vehicle_stats"), [{ n: 50 }]);
    // A limited backfill records no fetched slices: the same range is fetched again in full next time.
    assert.equal(fs.existsSync(path.join(out, "lake", statePath("fleet", "vehicle_stats"))), false);
    assert.equal(fs.existsSync(path.join(out, statePath("fleet", "vehicle_stats"))), false);

    const full = await executeRun({
      sources: [source], entities: "vehicle_stats", ...range,
      options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 3, ...range },
    });
    assert.equal(full.status, "succeeded", full.errors.join("; "));
    assert.equal(full.limited_to, undefined);
    assert.equal(full.entities.vehicle_stats.fetched, 96 * 3);
    const state = JSON.parse(fs.readFileSync(path.join(out, statePath("fleet", "vehicle_stats")), "utf8"));
    assert.deepEqual(state.fetched, [{ start: "2024-01-02T00:00:00.000Z", end: "2024-01-05T00:00:00.000Z" }]);
  } finally {
    for (const name of Object.keys(env)) delete process.env[name];
    await api.close();
  }
});
