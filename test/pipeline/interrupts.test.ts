import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { runCli, startCli } from "../support/cli-process";
import { heldSourceYaml, startHeldServer, type HeldServer } from "../support/held-server";

/**
 * Interrupts against a held local API (3 pages of 5 records, then an empty page): the test
 * signals the CLI once the server has seen a request, waits for the CLI's "stopping" line, and
 * only then lets the page in hand be answered - events, not sleeps.
 */
let server: HeldServer;
before(async () => {
  server = await startHeldServer();
});
after(async () => server?.close());

function setup(prefix: string): { file: string; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `api2lake-${prefix}-`));
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, heldSourceYaml(server.url, "held"));
  return { file: file, out: path.join(dir, "out") };
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function manifests(out: string): Record<string, unknown>[] {
  const dir = path.join(out, "runs");
  if (!fs.existsSync(dir)) return [];
  // Manifests only: runs/<run>/ holds each run's name mappings.
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown>);
}

/** Rows of the committed raw lake files per run id. */
function rawFileRows(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of filesUnder(path.join(out, "lake", "raw", "items"))) {
    for (const line of fs.readFileSync(file, "utf8").trim().split("\n")) {
      const run = String((JSON.parse(line) as { _run_id: string })._run_id);
      counts[run] = (counts[run] ?? 0) + 1;
    }
  }
  return counts;
}

/** The distinct payloads (by `_payload_hash`) the committed raw lake files hold, sorted. */
function rawPayloads(out: string): string[] {
  const hashes = new Set<string>();
  for (const file of filesUnder(path.join(out, "lake", "raw", "items"))) {
    for (const line of fs.readFileSync(file, "utf8").trim().split("\n")) hashes.add(String((JSON.parse(line) as { _payload_hash: string })._payload_hash));
  }
  return [...hashes].sort();
}

/**
 * `lake.items` per run (a payload counts for the first run that landed it: a re-fetched record is not
 * appended again, issue 8), its distinct payloads, and the hub's size.
 */
async function warehouseCounts(out: string): Promise<{ lake: Record<string, number>; payloads: string[]; hub: number }> {
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    const lake: Record<string, number> = {};
    for (const row of await warehouse.query("SELECT _run_id AS r, count(*) AS n FROM lake.items GROUP BY 1")) lake[String(row.r)] = Number(row.n);
    const payloads = (await warehouse.query("SELECT _payload_hash AS h FROM lake.items")).map((r) => String(r.h)).sort();
    assert.equal(new Set(payloads).size, payloads.length, "lake.items holds each payload once");
    const hub = await warehouse.query("SELECT count(*) AS n, count(DISTINCT id) AS d FROM hub.items");
    assert.equal(Number(hub[0].n), Number(hub[0].d), "the hub holds each id once");
    return { lake: lake, payloads: payloads, hub: Number(hub[0].n) };
  } finally {
    await warehouse.close();
  }
}

test("SIGINT during fetching: the page in hand is committed as a partial run (exit 130); a re-run completes, nothing counted twice", async () => {
  const s = setup("sigint");
  server.holdAgain();
  const before = server.requests.length;
  const cli = startCli(["run", "--config", s.file, "--out", s.out]);
  await server.requested(before + 1);
  cli.child.kill("SIGINT");
  await cli.waitFor(/SIGINT: stopping/);
  server.releaseAll();
  const done = await cli.done;
  assert.equal(done.code, 130, done.stdout + done.stderr);
  assert.equal(server.requests.length - before, 1, "no page was requested after the stop");
  const partial = manifests(s.out);
  assert.equal(partial.length, 1);
  assert.equal(partial[0].status, "partial");
  const counts = (partial[0].entities as Record<string, { fetched: number; kept: number }>).items;
  assert.deepEqual([counts.fetched, counts.kept], [5, 5]);
  assert.match(done.stdout, /run \S+: partial/);

  server.stopHolding();
  const rerun = await runCli(["run", "--config", s.file, "--out", s.out]);
  assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
  const wh = await warehouseCounts(s.out);
  assert.deepEqual(wh.payloads, rawPayloads(s.out), "the lake table and the lake files hold the same payloads");
  assert.equal(wh.payloads.length, 15);
  assert.deepEqual(Object.values(wh.lake).sort((a, b) => a - b), [5, 10], "the re-run appends only what the partial run had not");
  assert.equal(wh.hub, 15);
});

test("SIGINT after the last page was requested: the sinks finish every page in hand, committed as partial; a re-run agrees", async () => {
  const s = setup("sigwrite");
  // Pages 1-3 are answered at once; the empty page 4, which ends the series, is held until the signal.
  server.holdAgain(4);
  const before = server.requests.length;
  const cli = startCli(["run", "--config", s.file, "--out", s.out]);
  await server.requested(before + 4);
  cli.child.kill("SIGINT");
  await cli.waitFor(/SIGINT: stopping/);
  server.releaseAll();
  const done = await cli.done;
  assert.equal(done.code, 130, done.stdout + done.stderr);
  const partial = manifests(s.out);
  assert.equal(partial[0].status, "partial");
  assert.equal((partial[0].entities as Record<string, { kept: number }>).items.kept, 15);
  assert.deepEqual(Object.values(rawFileRows(s.out)), [15], "every page in hand was written and committed");

  server.stopHolding();
  const rerun = await runCli(["run", "--config", s.file, "--out", s.out]);
  assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
  const wh = await warehouseCounts(s.out);
  assert.deepEqual(wh.payloads, rawPayloads(s.out));
  assert.deepEqual(Object.values(rawFileRows(s.out)), [15, 15], "both runs' files are committed");
  assert.deepEqual(Object.values(wh.lake), [15], "the re-run appends nothing the partial run had landed");
  assert.equal(wh.hub, 15);
});

test("a second SIGINT aborts: no manifest, nothing committed; the next run rolls the aborted run back", async () => {
  const s = setup("abort");
  server.holdAgain();
  const before = server.requests.length;
  const cli = startCli(["run", "--config", s.file, "--out", s.out]);
  await server.requested(before + 1);
  cli.child.kill("SIGINT");
  await cli.waitFor(/SIGINT: stopping/);
  cli.child.kill("SIGINT");
  const done = await cli.done;
  assert.equal(done.code, 130, done.stdout + done.stderr);
  assert.match(done.stderr, /SIGINT again: aborted/);
  assert.equal(manifests(s.out).length, 0);
  assert.deepEqual(rawFileRows(s.out), {}, "no lake file is visible");

  server.stopHolding();
  const rerun = await runCli(["run", "--config", s.file, "--out", s.out]);
  assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
  const wh = await warehouseCounts(s.out);
  assert.deepEqual(wh.payloads, rawPayloads(s.out));
  assert.deepEqual(Object.values(wh.lake), [15]);
  assert.equal(wh.hub, 15);
});

test("rows and pending files of a run that never committed are rolled back by the next run", async () => {
  const s = setup("orphan");
  server.stopHolding();
  const first = await runCli(["run", "--config", s.file, "--out", s.out]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // What a killed run leaves: rows in lake.items and the error table, shards in lake/_pending, no manifest.
  const warehouse = await openDuckDbWarehouse(path.join(s.out, "warehouse.duckdb"));
  try {
    await warehouse.query("INSERT INTO lake.items SELECT * REPLACE ('killed-run' AS _run_id) FROM lake.items");
    await warehouse.writeErrors("items", [{ failed_at: "2026-11-29T10:00:00.000Z", stage: "validate", error: "x", payload: "{}", source: "/slow/items", run_id: "killed-run", entity: "items" }]);
  } finally {
    await warehouse.close();
  }
  const pending = path.join(s.out, "lake", "_pending", "killed-run", "raw", "items", "dt=2026-11-29");
  fs.mkdirSync(pending, { recursive: true });
  fs.writeFileSync(path.join(pending, "killed-run-w0.ndjson"), '{"id":1}\n');

  const next = await runCli(["run", "--config", s.file, "--out", s.out]);
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.match(next.stdout, /rolled back first \(never committed\): killed-run/);
  const latest = manifests(s.out).find((m) => (m.rolled_back_runs as string[]).length > 0)!;
  assert.deepEqual(latest.rolled_back_runs, ["killed-run"]);
  assert.equal(fs.existsSync(path.join(s.out, "lake", "_pending", "killed-run")), false);
  const wh = await warehouseCounts(s.out);
  assert.deepEqual(wh.payloads, rawPayloads(s.out));
  assert.deepEqual(Object.values(wh.lake), [15], "the killed run's rows are gone; the next run appended nothing new");
  const errors = await openDuckDbWarehouse(path.join(s.out, "warehouse.duckdb"));
  try {
    assert.deepEqual(await errors.query("SELECT count(*) AS n FROM lake.items_error_records WHERE run_id = 'killed-run'"), [{ n: 0 }]);
  } finally {
    await errors.close();
  }
});
