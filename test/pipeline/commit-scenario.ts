import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { FAILPOINT_ENV } from "../../pipeline/commit-stage";
import type { RunManifest } from "../../pipeline/manifest";
import type { SourceConfig } from "../../model/source-config";
import { openWarehouse } from "../../sinks/open-backends";
import { landedState } from "./snapshot";

/**
 * The run commits itself as the last stage of its graph (pipeline/commit-stage.ts). A run stopped
 * by the `before-commit` failpoint - every sink wrote, the commit stage did not run - leaves no lake
 * file visible, no state (slices, schema) and no manifest saying it committed; the next run rolls
 * it back and lands everything exactly once: hub, dataproducts, lake tables and lake files equal a
 * single clean run's. Real runs against the demo API, on the direct runner (one bundle) and on the
 * portable runner (many bundles; its LOOPBACK workers are this process, so they see the failpoint).
 */

/** The airquality preset with its readings fetched in daily slices, and the jobs preset. */
function sources(): SourceConfig[] {
  const air = loadPreset("airquality");
  const readings = { ...air.entities.readings, slices: { startParam: "from", endParam: "to", step: "P1D", format: "iso" as const } };
  return [{ ...air, entities: { ...air.entities, readings: readings } }, loadPreset("jobs")];
}

const FROM = "2024-01-02T00:00:00Z";
const TO = "2024-01-05T00:00:00Z";

function backfill(out: string, runner: "direct" | "portable"): Promise<RunManifest> {
  return executeRun({ sources: sources(), entities: "ALL", from: FROM, to: TO, options: { out: out, runner: runner, requestConcurrency: 4 } });
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-commit-"));

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Rows of the committed lake files per `<layer>/<entity>` (pending shards excluded). */
function lakeRows(out: string): Record<string, number> {
  const root = path.join(out, "lake");
  const counts: Record<string, number> = {};
  for (const file of filesUnder(root)) {
    const rel = path.relative(root, file).split(path.sep);
    if (rel[0] === "_pending") continue;
    const key = `${rel[0]}/${rel[1]}`;
    counts[key] = (counts[key] ?? 0) + fs.readFileSync(file, "utf8").trim().split("\n").length;
  }
  return counts;
}

/** Row count of every `lake.*` warehouse table. */
async function lakeTables(out: string): Promise<Record<string, number>> {
  const warehouse = await openWarehouse({ kind: "local", out: out });
  try {
    const out2: Record<string, number> = {};
    for (const t of await warehouse.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'lake' ORDER BY 1")) {
      const n = await warehouse.query(`SELECT count(*) AS n FROM lake."${String(t.t)}"`);
      out2[String(t.t)] = Number(n[0].n);
    }
    return out2;
  } finally {
    await warehouse.close();
  }
}

function manifests(out: string): RunManifest[] {
  const dir = path.join(out, "runs");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as RunManifest);
}

export async function stopBeforeCommitScenario(runner: "direct" | "portable"): Promise<void> {
  const api = await startDemoApi({ port: 0, sizes: { readingsDays: 14, stations: 2, jobs: 30 } });
  Object.assign(process.env, demoEnvironment(api.url));
  try {
    await scenario(runner);
  } finally {
    await api.close();
  }
}

async function scenario(runner: "direct" | "portable"): Promise<void> {
  const clean = tmp();
  const single = await backfill(clean, runner);
  assert.equal(single.status, "succeeded", single.errors.join("; "));
  assert.equal(single.committed, true);
  const expected = await landedState({ kind: "local", out: clean });
  assert.ok(expected["hub.readings"].length > 0 && expected["dataproducts.sensor_daily_averages"].length > 0 && expected["dataproducts.jobs_by_location"].length > 0);
  const cleanState = JSON.parse(fs.readFileSync(path.join(clean, "state", "airquality", "readings.json"), "utf8")) as { fetched: unknown[]; watermark: unknown };
  assert.deepEqual(cleanState.fetched, [{ start: "2024-01-02T00:00:00.000Z", end: "2024-01-05T00:00:00.000Z" }]);

  const out = tmp();
  process.env[FAILPOINT_ENV] = "before-commit";
  let stopped: RunManifest;
  try {
    stopped = await backfill(out, runner);
  } finally {
    delete process.env[FAILPOINT_ENV];
  }
  assert.equal(stopped.status, "failed");
  assert.equal(stopped.committed, false);
  assert.match(stopped.errors.join("\n"), /failpoint before-commit/);
  // The sinks wrote (pending shards exist), yet no lake file is visible.
  assert.ok(filesUnder(path.join(out, "lake", "_pending", stopped.run_id)).length > 0, "the sinks wrote pending shards");
  assert.deepEqual(lakeRows(out), {});
  // No state: neither the backfilled slices nor the schemas.
  assert.equal(fs.existsSync(path.join(out, "state")), false);
  assert.deepEqual(manifests(out).map((m) => [m.status, m.committed]), [["failed", false]]);

  const rerun = await backfill(out, runner);
  assert.equal(rerun.status, "succeeded", rerun.errors.join("; "));
  assert.deepEqual(rerun.rolled_back_runs, [stopped.run_id]);
  assert.deepEqual(await landedState({ kind: "local", out: out }), expected);
  assert.deepEqual(await lakeTables(out), await lakeTables(clean));
  assert.deepEqual(lakeRows(out), lakeRows(clean));
  assert.deepEqual(filesUnder(path.join(out, "lake", "_pending")), []);
  const state = JSON.parse(fs.readFileSync(path.join(out, "state", "airquality", "readings.json"), "utf8")) as { fetched: unknown[]; watermark: unknown };
  assert.deepEqual([state.fetched, state.watermark], [cleanState.fetched, cleanState.watermark]);
  assert.equal(fs.existsSync(path.join(out, "state", "airquality", "readings.schema.json")), true);
  // Counts come from the data: the same as the clean run's, the hub already holding the stopped run's merge.
  for (const entity of Object.keys(single.entities)) {
    const a = single.entities[entity];
    const b = rerun.entities[entity];
    assert.deepEqual([b.pages, b.fetched, b.valid, b.kept, b.duplicates], [a.pages, a.fetched, a.valid, a.kept, a.duplicates], entity);
    assert.equal(b.hub_inserted + b.hub_updated + b.hub_unchanged + b.hub_older_ignored, a.kept, entity);
  }
  assert.deepEqual(rerun.dataproducts, single.dataproducts);
  assert.equal(rerun.lake_files, single.lake_files);
}
