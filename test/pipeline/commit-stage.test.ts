import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { commitRun, FAILPOINT_ENV, type CommitInput, type CommitSpec } from "../../pipeline/commit-stage";
import type { RunManifest } from "../../pipeline/manifest";
import type { SourceConfig } from "../../model/source-config";
import { openWarehouse } from "../../sinks/open-backends";
import { landedState } from "./snapshot";

/**
 * The run commits itself as the last stage of its graph (pipeline/commit-stage.ts). A run stopped
 * by the `before-commit` failpoint - every sink wrote, the commit stage did not run - leaves no lake
 * file visible, no state (slices, schema) and no manifest saying it committed; the
 * next run rolls it back and lands everything exactly once: hub, dataproducts, lake tables and lake
 * files equal a single clean run's. Real direct-runner runs against the demo API.
 */

let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, sizes: { readingsDays: 14, stations: 2, jobs: 30 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

/** The airquality preset with its readings fetched in daily slices, and the jobs preset. */
function sources(): SourceConfig[] {
  const air = loadPreset("airquality");
  const readings = { ...air.entities.readings, slices: { startParam: "from", endParam: "to", step: "P1D", format: "iso" as const } };
  return [{ ...air, entities: { ...air.entities, readings: readings } }, loadPreset("jobs")];
}

const FROM = "2024-01-02T00:00:00Z";
const TO = "2024-01-05T00:00:00Z";

function backfill(out: string): Promise<RunManifest> {
  return executeRun({ sources: sources(), entities: "ALL", from: FROM, to: TO, options: { out: out, runner: "direct", requestConcurrency: 4 } });
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

test("a run stopped before its commit stage leaves nothing visible and the state untouched; the re-run lands everything exactly once", async () => {
  const clean = tmp();
  const single = await backfill(clean);
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
    stopped = await backfill(out);
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

  const rerun = await backfill(out);
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
});

function spec(out: string, runId: string): CommitSpec {
  return {
    runId: runId, startedAt: "2026-11-29T10:00:00.000Z", target: { kind: "local", out: out }, runner: "direct", options: {}, sources: ["s"], entities: ["a"],
    sealedSources: [], maxDeadShare: {}, rolledBack: [],
    promotions: [{ kind: "watermark", source: "s", entity: "a", slices: [{ start: "2026-11-28T00:00:00.000Z", end: "2026-11-29T00:00:00.000Z" }] }],
  };
}

test("commitRun sums the tallies of every bundle and counts lake files from the sink results; the state moves only without errors", async () => {
  const out = tmp();
  // Two bundles of the same steps, as a runner that splits work emits them.
  const inputs: CommitInput[] = [
    { done: "run" },
    { tally: { "a/pages": 1, "a/fetched": 3, "a/valid": 3 } },
    { tally: { "a/pages": 1, "a/fetched": 2, "a/valid": 2 } },
    { tally: { "a/kept": 4, "a/duplicates": 1 } },
    { tally: { "a/hub_inserted": 3, "a/hub_unchanged": 1, "dataproducts/t": 0 } },
    { wrote: { sink: "lake", location: "raw/a/dt=2026-11-28/r1-x.ndjson", written: 3 } },
    { wrote: { sink: "lake", location: "raw/a/dt=2026-11-28/r1-y.ndjson", written: 2 } },
    { wrote: { sink: "warehouse", location: "lake.a", written: 5 } },
  ];
  const m = await commitRun(spec(out, "r1"), inputs);
  assert.equal(m.status, "succeeded", m.errors.join("; "));
  assert.equal(m.committed, true);
  const a = m.entities.a;
  assert.deepEqual([a.pages, a.fetched, a.valid, a.kept, a.duplicates, a.hub_inserted, a.hub_unchanged], [2, 5, 5, 4, 1, 3, 1]);
  assert.deepEqual(m.checks.map((c) => c.ok), [true, true, true]);
  assert.deepEqual(m.dataproducts, { t: 0 });
  assert.equal(m.lake_files, 2);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "runs", "r1.json"), "utf8")), m);
  const state = JSON.parse(fs.readFileSync(path.join(out, "state", "s", "a.json"), "utf8")) as { watermark: string };
  assert.equal(state.watermark, "2026-11-29T00:00:00.000Z");

  // A page that kept failing: the manifest says so, the state stays where the first run left it.
  const failed = await commitRun({ ...spec(out, "r2"), promotions: [{ kind: "watermark", source: "s", entity: "a", slices: [{ start: "2026-11-29T00:00:00.000Z", end: "2026-11-30T00:00:00.000Z" }] }] },
    [{ done: "run" }, { tally: { "a/fetch_failed_pages": 1 } }]);
  assert.equal(failed.status, "failed");
  assert.match(failed.errors.join("\n"), /some pages kept failing/);
  assert.equal((JSON.parse(fs.readFileSync(path.join(out, "state", "s", "a.json"), "utf8")) as { watermark: string }).watermark, "2026-11-29T00:00:00.000Z");
});
