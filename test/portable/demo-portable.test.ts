import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli, type CliResult } from "../support/cli-process";
import { landedState } from "../pipeline/snapshot";
import { pythonBeamInterpreter } from "../../pipeline/portable-runner";
import { loadPreset, PRESET_NAMES } from "../../pipeline/presets";
import { demoEnvironment } from "../../pipeline/demo-command";
import { startDemoApi } from "../../sources/demo-api/server";
import { readState } from "../../sources/rest/state";
import { LocalLake } from "../../sinks/lake-local";
import { alive } from "../support/processes";

/*
 * The whole demo on `--runner portable` (Beam's Python portable job service, 4 LOOPBACK workers,
 * each stage's input cut into 4 bundles) lands exactly what the direct runner (one bundle) lands.
 */

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The only manifest of a single-run `--out`. */
function onlyManifest(out: string): { run_id: string; status: string; runner: string; errors: string[] } {
  const files = fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".json"));
  assert.equal(files.length, 1, `${out}/runs holds ${files.join(", ")}`);
  return JSON.parse(fs.readFileSync(path.join(out, "runs", files[0]), "utf8"));
}

/**
 * Per entity, the distinct bundles that wrote its raw lake layer: a shard is named
 * `<runId>-<bundleId>-<seq>-<n>.ndjson` (sinks/beam-sinks.ts), one bundle id per bundle of the writer.
 */
function rawBundles(out: string, runId: string, entities: readonly string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const entity of entities) {
    const names = filesUnder(path.join(out, "lake", "raw", entity)).map((f) => path.basename(f));
    assert.ok(names.length > 0 && names.every((n) => n.startsWith(runId + "-")), `raw/${entity}: ${names.join(", ")}`);
    result[entity] = new Set(names.map((n) => n.slice(runId.length + 1).split("-")[0])).size;
  }
  return result;
}


function jobServicePid(result: CliResult): number {
  const match = /portable job service \(pid (\d+)\) at localhost:\d+, 4 workers/.exec(result.stderr);
  assert.ok(match, `no job service line in the output:\n${result.stderr.slice(-2000)}`);
  return Number(match[1]);
}

test("the demo on --runner portable lands what the direct runner lands, in many bundles, committed, state advanced", async () => {
  // Fails (never skips) without the Python side, naming scripts/install-python-beam.sh.
  pythonBeamInterpreter();
  // For the incremental run at the end; the presets read their base URL and secrets from these variables.
  const api = await startDemoApi({ port: 0 });
  try {
    const env = demoEnvironment(api.url);
    Object.assign(process.env, env);
    const presets = PRESET_NAMES.map((name) => loadPreset(name));
    const entities = presets.flatMap((preset) => Object.keys(preset.entities));
    const servingTables = presets.flatMap((preset) => Object.values(preset.entities).flatMap((e) => (e.serving ? [e.serving.table] : [])));
    const directOut = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-demo-direct-"));
    const portableOut = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-demo-portable-"));
    const results = await Promise.all([runCli(["demo", "--out", directOut]), runCli(["demo", "--runner", "portable", "--out", portableOut])]);
    const direct = results[0];
    const portable = results[1];
    assert.equal(direct.code, 0, `direct demo exited ${direct.code}:\n${direct.stderr.slice(-3000)}\n${direct.stdout}`);
    assert.equal(portable.code, 0, `portable demo exited ${portable.code}:\n${portable.stderr.slice(-3000)}\n${portable.stdout}`);
    const directManifest = onlyManifest(directOut);
    const portableManifest = onlyManifest(portableOut);
    assert.equal(portableManifest.status, "succeeded", portableManifest.errors.join("\n"));
    assert.equal(portableManifest.runner, "portable");

    // The job service is gone once the run returned (stopped, not orphaned).
    assert.equal(alive(jobServicePid(portable)), false, "the portable job service outlived the run");

    // Same hub, dataproducts and serving rows (run ids and ingestion times aside).
    assert.deepEqual(servingTables, ["invoices"]);
    const expected = await landedState({ kind: "local", out: directOut }, servingTables);
    const actual = await landedState({ kind: "local", out: portableOut }, servingTables);
    assert.deepEqual(Object.keys(actual), Object.keys(expected));
    assert.ok(Object.keys(expected).length >= 13 && Object.values(expected).every((rows) => rows.length > 0));
    assert.deepEqual(actual, expected);

    // More than one bundle: the direct runner writes each entity's raw layer in one bundle, the
    // portable runner in one per worker (4).
    const oneEach = Object.fromEntries(entities.map((e) => [e, 1]));
    assert.deepEqual(rawBundles(directOut, directManifest.run_id, entities), oneEach);
    assert.deepEqual(rawBundles(portableOut, portableManifest.run_id, entities), Object.fromEntries(entities.map((e) => [e, 4])));

    // Nothing left pending: every shard was committed (made visible).
    const lake = new LocalLake(portableOut);
    assert.deepEqual(await lake.pendingRuns(), []);
    assert.deepEqual(filesUnder(path.join(portableOut, "lake", "_pending")), []);

    // The demo backfills the fleet's sliced entity: the same three days are recorded as fetched.
    const stateDirect = await readState(new LocalLake(directOut), "fleet", "vehicle_stats");
    const statePortable = await readState(lake, "fleet", "vehicle_stats");
    assert.deepEqual(statePortable.fetched, [{ start: "2024-01-01T00:00:00.000Z", end: "2024-01-04T00:00:00.000Z" }]);
    assert.deepEqual(statePortable.fetched, stateDirect.fetched);
    assert.equal(statePortable.watermark, null);

    // An incremental portable run moves the watermark from its --from to the run's start.
    const before = new Date();
    const from = new Date(before.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
    const run = await runCli(["run", "--config", "fleet", "--entities", "vehicle_stats", "--from", from, "--runner", "portable", "--out", portableOut], env);
    assert.equal(run.code, 0, `incremental portable run exited ${run.code}:\n${run.stderr.slice(-3000)}\n${run.stdout}`);
    const advanced = await readState(lake, "fleet", "vehicle_stats");
    assert.ok(advanced.watermark !== null, "no watermark after the incremental run");
    const mark = new Date(advanced.watermark).getTime();
    assert.ok(mark >= before.getTime() && mark <= Date.now(), `watermark ${advanced.watermark} is not the incremental run's start (after ${before.toISOString()})`);
    assert.equal(alive(jobServicePid(run)), false, "the portable job service outlived the incremental run");
    assert.deepEqual(await lake.pendingRuns(), []);
  } finally {
    await api.close();
  }
});
