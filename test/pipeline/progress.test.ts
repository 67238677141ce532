import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { emitProgress } from "../../model/progress-events";
import { applyProgress, describeEntity, formatSeconds, startProgress, type ProgressState } from "../../pipeline/progress";
import { startCli, startCliInTerminal } from "../support/cli-process";
import { heldSourceYaml, startHeldServer, type HeldServer } from "../support/held-server";

function setup(server: HeldServer, prefix: string): { file: string; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `api2lake-${prefix}-`));
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, heldSourceYaml(server.url, "held"));
  return { file: file, out: path.join(dir, "out") };
}

/** Terminal output without escape sequences (cursor moves, erase line). */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

test("an entity's line: series of the planned total, requests, pages, stages, rate, ETA, waits", () => {
  const state: ProgressState = new Map();
  const t0 = 1_000_000;
  applyProgress(state, { kind: "planned", source: "air", entity: "readings", series: 4 }, t0);
  applyProgress(state, { kind: "request", source: "air", entity: "readings", url: "http://x/r?page=1" }, t0 + 500);
  applyProgress(state, { kind: "page", source: "air", entity: "readings", page: "1", index: 1, records: 1500, status: 200, attempts: 1, url: "http://x/r?page=1" }, t0 + 1000);
  applyProgress(state, { kind: "series_done", source: "air", entity: "readings" }, t0 + 1000);
  applyProgress(state, { kind: "stage", entity: "readings", stage: "valid", count: 1490 }, t0 + 1500);
  applyProgress(state, { kind: "stage", entity: "readings", stage: "dead", count: 10 }, t0 + 1500);
  applyProgress(state, { kind: "retry_wait", source: "air", entity: "readings", ms: 2000, rateLimited: true, reason: "HTTP 429 rate limited" }, t0 + 2000);
  const p = state.get("air.readings")!;
  assert.equal(describeEntity(p, t0 + 3000),
    "air.readings 1/4 series, 1 req, 1 pages | fetched 1,500 valid 1,490 dead 10 kept 0 | 600 rec/s, ETA 8s | 1 retry waiting (1 on the rate limit)");
  applyProgress(state, { kind: "retry_done", source: "air", entity: "readings" }, t0 + 4000);
  applyProgress(state, { kind: "series_done", source: "air", entity: "readings", failure: "GET /r page 1 failed: HTTP 401 (not retryable)" }, t0 + 4000);
  assert.equal(describeEntity(state.get("air.readings")!, t0 + 4000),
    "air.readings 2/4 series, 1 req, 1 pages, 1 failed | fetched 1,500 valid 1,490 dead 10 kept 0 | 429 rec/s, ETA 4s");
  assert.deepEqual([formatSeconds(59.6), formatSeconds(185), formatSeconds(3720)], ["1m00s", "3m05s", "1h02m"]);
});

test("a series that declares its page total (totalPagesPath/totalPath) shows pages of it, and the ETA follows pages", () => {
  const state: ProgressState = new Map();
  applyProgress(state, { kind: "planned", source: "shop", entity: "orders", series: 1 }, 0);
  for (const index of [1, 2]) {
    applyProgress(state, { kind: "page", source: "shop", entity: "orders", page: String(index), index: index, seriesPages: 10, records: 100, status: 200, attempts: 1, url: "u" }, index * 2000);
  }
  assert.equal(describeEntity(state.get("shop.orders")!, 4000), "shop.orders 0/1 series, 0 req, 2/10 pages | fetched 200 valid 0 dead 0 kept 0 | 50 rec/s, ETA 16s");
  // A second series without a declared total: the page total is no longer known.
  applyProgress(state, { kind: "planned", source: "shop", entity: "orders", series: 1 }, 4000);
  applyProgress(state, { kind: "page", source: "shop", entity: "orders", page: "1", index: 1, records: 0, status: 200, attempts: 1, url: "u" }, 4000);
  assert.match(describeEntity(state.get("shop.orders")!, 4000), /0\/2 series, 0 req, 3 pages \|/);
});

test("off a terminal: one plain line per tick when something changed, and a last one at stop", () => {
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  let nowMs = 50_000;
  let tick: () => void = () => undefined;
  const progress = startProgress({ stream: stream, now: () => nowMs, every: (ms, fn) => { assert.equal(ms, 5000); tick = fn; return () => (tick = () => undefined); } });
  tick();
  assert.deepEqual(written, [], "nothing happened yet: no line");
  emitProgress({ kind: "planned", source: "s", entity: "e", series: 2 });
  emitProgress({ kind: "page", source: "s", entity: "e", page: "1", index: 1, records: 10, status: 200, attempts: 1, url: "u" });
  nowMs += 5000;
  tick();
  tick();
  assert.deepEqual(written, ["progress 5s: s.e 0/2 series, 0 req, 1 pages | fetched 10 valid 0 dead 0 kept 0 | 2 rec/s\n"]);
  emitProgress({ kind: "series_done", source: "s", entity: "e" });
  nowMs += 5000;
  progress.stop();
  progress.stop();
  assert.equal(written.length, 2);
  assert.equal(written[1], "progress 10s: s.e 1/2 series, 0 req, 1 pages | fetched 10 valid 0 dead 0 kept 0 | 1 rec/s, ETA 10s\n");
  emitProgress({ kind: "series_done", source: "s", entity: "e" });
  assert.equal(written.length, 2, "stopped: no longer listening");
});

test("--quiet shows nothing", () => {
  const written: string[] = [];
  const stream = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const progress = startProgress({ stream: stream, quiet: true });
  emitProgress({ kind: "planned", source: "s", entity: "e", series: 1 });
  progress.stop();
  assert.deepEqual(written, []);
});

test("on a terminal the live display updates while the run is still fetching", async (t) => {
  const server = await startHeldServer(2, 5);
  t.after(() => server.close());
  const paths = setup(server, "progress-tty");
  const cli = startCliInTerminal(["run", "--config", paths.file, "--out", paths.out]);
  // Page 1 is held: the display already shows the planned series and the request in flight.
  await server.requested(1);
  await cli.waitFor(/held\.items 0\/1 series, 1 req, 0 pages \| fetched 0/);
  server.releaseAll();
  // Page 2 is held now: page 1's records are on the display before the run can end.
  await server.requested(2);
  const during = plain(await cli.waitFor(/held\.items 0\/1 series, 2 req, 1 pages \| fetched 5 /));
  assert.match(during, /\[-+\] held\.items 0\/1 series, 2 req, 1 pages \| fetched 5 /, "a bar and the entity's line");
  assert.doesNotMatch(during, /run \S+: succeeded/, "the run has not ended");
  server.stopHolding();
  const result = await cli.done;
  assert.equal(result.code, 0, result.stdout);
  const output = plain(result.stdout);
  assert.match(output, /\[=+\] held\.items 1\/1 series, 3 req, 3 pages \| fetched 10 valid 10 dead 0 kept 10 \|/);
  assert.match(output, /run \S+: succeeded/);
});

test("off a terminal the run prints plain progress lines (every 5 s, and at the end)", async (t) => {
  const server = await startHeldServer(2, 5);
  t.after(() => server.close());
  server.holdAgain(2);
  const paths = setup(server, "progress-plain");
  const cli = startCli(["run", "--config", paths.file, "--out", paths.out]);
  await server.requested(2);
  // Page 2 is held: the 5 s interval prints a line while the run waits on it.
  const during = await cli.waitFor(/progress \d+s: held\.items 0\/1 series, 2 req, 1 pages \| fetched 5 valid/);
  assert.doesNotMatch(during, /run \S+: succeeded/);
  server.stopHolding();
  const result = await cli.done;
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stderr.split("\n").filter((l) => l.startsWith("progress "));
  assert.match(lines[lines.length - 1], /^progress \d+s: held\.items 1\/1 series, 3 req, 3 pages \| fetched 10 valid 10 dead 0 kept 10 \| \d+ rec\/s, fetched all$/);
  assert.doesNotMatch(result.stderr, /\x1b\[/, "no escape sequences off a terminal");
  const quiet = await startCli(["run", "--config", paths.file, "--out", paths.out + "-quiet", "--quiet"]).done;
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /progress/);
});
