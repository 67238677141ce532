import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commitRun, paneManifestId, type CommitInput, type CommitSpec } from "../../pipeline/commit-stage";
import { stopBeforeCommitScenario } from "./commit-scenario";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-commit-"));

/** The stop-before-commit scenario on the direct runner (the portable one: test/portable/commit-portable.test.ts). */
test("a run stopped before its commit stage leaves nothing visible and the state untouched; the re-run lands everything exactly once", async () => {
  await stopBeforeCommitScenario("direct");
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

test("a streaming pane's manifest id names the run, its window's start (UTC) and the pane index", () => {
  const dayWindow = { start: { toString: () => String(Date.UTC(2024, 0, 2)) } };
  assert.equal(paneManifestId("20240102T101500Z-abc123", dayWindow as never, { index: 3 } as never), "20240102T101500Z-abc123-20240102T000000Z-p3");
  assert.equal(paneManifestId("r1", {} as never, { index: 0 } as never), "r1-global-p0");
});
