import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi, fleetDriver, type DemoApi } from "../../sources/demo-api";
import { demoEnvironment } from "../../pipeline/demo-command";
import { presetPath } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { loadConfig } from "../../pipeline/run-command";
import { replayCommand, replayReport } from "../../pipeline/replay-command";
import { parseOptions } from "../../pipeline/options";
import type { RunManifest } from "../../pipeline/manifest";
import { deadLetter } from "../../model/dead-letter";
import { deadLetterId, deadLetterShardsOf, planReplay } from "../../sources/dead-letter-lake";
import { readReplayRecord } from "../../sources/replay-state";
import { LocalLake } from "../../sinks/lake-local";
import { lakeRows, sql } from "../golden/helpers";
import { newestManifest, jsonError } from "../support/run-manifests";

/**
 * `api2lake replay --deadletters <entity>`: drivers whose phone is longer than a too-strict
 * `maxLength: 10` are dead-lettered (validate); once the limit is lifted, a replay lands exactly
 * those drivers, and a second replay lands nothing again.
 */

const SEED = 42;
const DRIVERS = 60;
let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, seed: SEED, sizes: { drivers: DRIVERS } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

function fleetConfig(dir: string, phoneField: string, name: string): string {
  const text = fs.readFileSync(presetPath("fleet"), "utf8");
  const before = "      phone: { type: string }";
  assert.ok(text.includes(before), "presets/fleet.yaml changed: update this test's edit");
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text.replace(before, `      phone: ${phoneField}`));
  return file;
}

function manifestOf(out: string, runId: string): RunManifest {
  return JSON.parse(fs.readFileSync(path.join(out, "runs", `${runId}.json`), "utf8")) as RunManifest;
}


test("a dead-letter replay lands the fixed records once, even when run twice", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-replay-"));
  const strict = fleetConfig(out, "{ type: string, maxLength: 10 }", "strict");
  const first = await executeRun({ sources: [loadConfig(strict)], entities: "drivers", options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 4 } });
  assert.equal(first.status, "succeeded", first.errors.join("; "));
  // Independent expectation: the generator's drivers whose phone has more than 10 characters.
  const all = Array.from({ length: DRIVERS }, (_, i) => fleetDriver(SEED, i));
  const long = all.filter((d) => d.phone.length > 10).map((d) => d.id).sort();
  assert.equal(long.length, 7);
  assert.equal(first.entities.drivers.validate_failed, long.length);
  const hubIds = async () => (await sql(out, "SELECT id FROM hub.drivers ORDER BY id")).map((r) => String(r.id));
  assert.deepEqual(await hubIds(), all.map((d) => d.id).filter((id) => !long.includes(id)).sort());
  const lakeTable = await sql(out, "SELECT count(*) AS n FROM lake.drivers");
  const requests = api.stats().total;

  const fixed = fleetConfig(out, "{ type: string }", "fixed");
  const replay = () => replayCommand(parseOptions("replay", ["--deadletters", "drivers", "--config", fixed, "--out", out, "--requestConcurrency", "4"]).options);
  assert.equal(await replay(), 0);
  const firstReplay = manifestOf(out, newestManifest(out).run_id);
  assert.equal(firstReplay.status, "succeeded", firstReplay.errors.join("; "));
  const c = firstReplay.entities.drivers;
  assert.deepEqual([c.pages, c.fetched, c.valid, c.validate_failed, c.kept, c.hub_inserted, c.hub_updated], [0, 7, 7, 0, 7, 7, 0]);
  assert.deepEqual(await hubIds(), all.map((d) => d.id).sort());
  const replayed = await sql(out, `SELECT id, phone, phone_e164, _run_id FROM hub.drivers WHERE id IN (${long.map((id) => `'${id}'`).join(", ")}) ORDER BY id`);
  assert.deepEqual(replayed.map((r) => [r.id, r.phone, r._run_id]), long.map((id) => [id, all.find((d) => d.id === id)!.phone, firstReplay.run_id]));
  const lake = new LocalLake(out);
  const record = await readReplayRecord(lake, firstReplay.run_id, "drivers");
  assert.deepEqual([record?.replayed.length, record?.alreadyReplayed, record?.unreplayable], [7, 0, {}]);
  assert.deepEqual(replayReport("drivers", record, true), ["drivers: 7 dead letter(s) replayed"]);

  // Again: every letter was replayed by a committed run, so nothing is read, nothing lands.
  assert.equal(await replay(), 0);
  const secondReplay = manifestOf(out, newestManifest(out).run_id);
  assert.notEqual(secondReplay.run_id, firstReplay.run_id);
  assert.deepEqual([secondReplay.entities.drivers.fetched, secondReplay.entities.drivers.kept], [0, 0]);
  assert.deepEqual((await readReplayRecord(lake, secondReplay.run_id, "drivers"))?.alreadyReplayed, 7);
  const stillFirst = await sql(out, `SELECT count(*) AS n FROM hub.drivers WHERE _run_id = '${firstReplay.run_id}'`);
  assert.equal(Number(stillFirst[0].n), 7);
  // No request, no raw file from either replay; the lake table had the payloads already.
  assert.equal(api.stats().total, requests);
  assert.ok(lakeRows(out, "raw", "drivers").every((r) => r._run_id === first.run_id));
  assert.deepEqual(await sql(out, "SELECT count(*) AS n FROM lake.drivers"), lakeTable);
  assert.deepEqual(lakeRows(out, "processed", "drivers").filter((r) => r._run_id === firstReplay.run_id).map((r) => r.id).sort(), long);
});

test("planReplay: validate/normalize letters become records; fetch, sink, parse letters stay, counted; done ids skipped", () => {
  const letter = (stage: "fetch" | "validate" | "normalize" | "sink" | "parse", payload: unknown, error: string) =>
    deadLetter({ stage: stage, error: error, payload: payload, source: "/fleet/drivers", run_id: "r1", entity: "drivers", failed_at: "2026-01-02T03:04:05.000Z" });
  const letters = [
    letter("validate", { id: "1", phone: "+14155550199" }, 'field "phone": longer than 10'),
    letter("normalize", { id: "2", time: "2024-03-31 02:30:00" }, "in a DST gap"),
    letter("fetch", { url: "/fleet/drivers?after=x" }, "HTTP 500 after 5 attempts"),
    letter("sink", { id: "3" }, "serving row key"),
    letter("parse", "[1]", "not a JSON object: got an array"),
    letter("validate", "{\"id\":\"4\",\"name\":\"cut", "over the limit"),
    letter("validate", { id: "5" }, "already replayed"),
  ];
  const text = letters.map((l) => JSON.stringify(l)).join("\n") + "\nnot json\n";
  const plan = planReplay([{ path: "deadletter/drivers/dt=2026-01-02/r1-a.ndjson", text: text }], new Set([deadLetterId(letters[6])]), { source: "fleet", entity: "drivers", runId: "r2" });
  const records = plan.elements.filter((e) => "record" in e).map((e) => ("record" in e ? e.record : undefined));
  assert.deepEqual(records, [
    { source: "fleet", entity: "drivers", record: { id: "1", phone: "+14155550199" }, _source: "/fleet/drivers", _page: "deadletter r1", fetched_at: "2026-01-02T03:04:05.000Z" },
    { source: "fleet", entity: "drivers", record: { id: "2", time: "2024-03-31 02:30:00" }, _source: "/fleet/drivers", _page: "deadletter r1", fetched_at: "2026-01-02T03:04:05.000Z" },
  ]);
  const dead = plan.elements.filter((e) => "deadLetter" in e).map((e) => ("deadLetter" in e ? [e.deadLetter.stage, e.deadLetter.error, e.deadLetter.run_id] : []));
  assert.deepEqual(dead, [
    ["parse", "dead letter of run r1 (validate: over the limit): its payload is not a JSON object, so it cannot be replayed", "r2"],
    ["parse", `dead letter deadletter/drivers/dt=2026-01-02/r1-a.ndjson line 8: not JSON (${jsonError("not json")})`, "r2"],
  ]);
  assert.deepEqual(plan.record, {
    source: "fleet", entity: "drivers", replayed: [deadLetterId(letters[0]), deadLetterId(letters[1]), deadLetterId(letters[5])].sort(),
    unreplayable: { fetch: 1, sink: 1, parse: 1 }, alreadyReplayed: 1,
  });
  assert.deepEqual(replayReport("drivers", plan.record, true), [
    "drivers: 3 dead letter(s) replayed, 1 skipped (replayed by an earlier run)",
    "  1 fetch dead letter(s) cannot be replayed: a page that kept failing: its records were never fetched; only the API has them (run the entity again for that range)",
    "  1 parse dead letter(s) cannot be replayed: not a JSON object: nothing can make it a record",
    "  1 sink dead letter(s) cannot be replayed: the payload is a landed row, not an API record: `api2lake run --from-raw` rebuilds the serving rows",
  ]);
});

test("deadLetterShardsOf: an entity's shards, only one run's with --run", () => {
  const paths = [
    "deadletter/drivers/dt=2026-01-02/20260102T000000Z-aaaaaa-b1-0-0.ndjson",
    "deadletter/drivers/dt=2026-01-01/20260101T000000Z-bbbbbb-b2-0-0.ndjson",
    "deadletter/drivers_tags/dt=2026-01-01/20260101T000000Z-bbbbbb-b2-0-0.ndjson",
    "raw/drivers/dt=2026-01-01/20260101T000000Z-bbbbbb-b2-0-0.ndjson",
  ];
  assert.deepEqual(deadLetterShardsOf(paths, "drivers"), [paths[1], paths[0]]);
  assert.deepEqual(deadLetterShardsOf(paths, "drivers", "20260102T000000Z-aaaaaa"), [paths[0]]);
});

