import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { presetPath } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { loadConfig, runCommand } from "../../pipeline/run-command";
import { parseOptions } from "../../pipeline/options";
import type { RunManifest } from "../../pipeline/manifest";
import { lakeRows, filesUnder, sql } from "../golden/helpers";
import { rawShardElements, rawShardsOf } from "../../sources/raw-lake";
import { newestManifest, jsonError } from "../support/run-manifests";

/**
 * `api2lake run --from-raw`: the fleet preset's drivers (10-digit phones without a country code,
 * read with `phones: { phone: { region: US } }`) are fetched once; the region then changes to GB
 * and a rebuild from the raw lake lands the new E.164 values in the hub without one request.
 */

const SEED = 42;
let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, seed: SEED, sizes: { drivers: 60 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => api?.close());

/** The fleet preset with the drivers' phone region replaced, written to `dir`. */
function fleetWithRegion(dir: string, region: string): string {
  const text = fs.readFileSync(presetPath("fleet"), "utf8");
  const before = "phone: { region: US }";
  assert.ok(text.includes(before), "presets/fleet.yaml changed: update this test's edit");
  const file = path.join(dir, `fleet-${region}.yaml`);
  fs.writeFileSync(file, text.replace(before, `phone: { region: ${region} }`));
  return file;
}

/** E.164 as libphonenumber-js reads the number for the region (independent of the pipeline), or null. */
function expectedE164(phone: unknown, region: string): string | null {
  if (typeof phone !== "string" || phone === "") return null;
  const parsed = parsePhoneNumberFromString(phone, region as CountryCode);
  return parsed && parsed.isValid() ? parsed.number : null;
}


test("--from-raw after a phone-region change rebuilds hub.drivers with the new values and makes no HTTP request", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-from-raw-"));
  const fetched = await executeRun({
    sources: [loadConfig(fleetWithRegion(out, "US"))], entities: "drivers",
    options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 4 },
  });
  assert.equal(fetched.status, "succeeded", fetched.errors.join("; "));
  const raw = lakeRows(out, "raw", "drivers");
  const phoneOf = new Map<string, unknown>();
  for (const r of raw) phoneOf.set(String(r.id), r.phone);
  const hubBefore = await sql(out, "SELECT id, phone_e164 FROM hub.drivers ORDER BY id");
  assert.deepEqual(hubBefore.map((r) => [r.id, r.phone_e164]), [...phoneOf.keys()].sort().map((id) => [id, expectedE164(phoneOf.get(id), "US")]));

  const requestsBefore = api.stats().total;
  const rawFiles = filesUnder(path.join(out, "lake", "raw")).sort();
  const lakeTable = await sql(out, "SELECT count(*) AS n FROM lake.drivers");
  const parsed = parseOptions("run", ["--from-raw", "--config", fleetWithRegion(out, "GB"), "--entities", "drivers", "--out", out, "--requestConcurrency", "4"]);
  assert.deepEqual(parsed.errors, []);
  assert.equal(await runCommand(parsed.options), 0);

  assert.equal(api.stats().total, requestsBefore, "the rebuild called the API");
  const rebuilt = newestManifest(out);
  assert.equal(rebuilt.status, "succeeded", rebuilt.errors.join("; "));
  const c = rebuilt.entities.drivers;
  assert.deepEqual([c.pages, c.fetched, c.valid, c.hub_inserted, c.hub_updated, c.hub_unchanged], [0, raw.length, raw.length, 0, phoneOf.size, 0]);
  const hubAfter = await sql(out, "SELECT id, phone_e164 FROM hub.drivers ORDER BY id");
  const expected = [...phoneOf.keys()].sort().map((id) => [id, expectedE164(phoneOf.get(id), "GB")]);
  assert.deepEqual(hubAfter.map((r) => [r.id, r.phone_e164]), expected);
  // The change is real: 10-digit US national numbers are not British ones, so they lose their E.164.
  const changed = expected.filter((e, i) => e[1] !== hubBefore[i].phone_e164).length;
  assert.ok(changed > 10, `only ${changed} of ${expected.length} phones changed`);

  // The raw layer is the input: no raw file is written again, and the lake table appends nothing.
  assert.deepEqual(filesUnder(path.join(out, "lake", "raw")).sort(), rawFiles);
  assert.deepEqual(await sql(out, "SELECT count(*) AS n FROM lake.drivers"), lakeTable);
  assert.ok(filesUnder(path.join(out, "lake", "processed", "drivers")).some((f) => f.includes(rebuilt.run_id)), "the rebuild's accepted rows reach the processed layer");
});

test("--from-raw --from/--to read only the raw dt= days in range; a rebuild leaves the entity state as it was", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-from-raw-days-"));
  const config = fleetWithRegion(out, "US");
  const source = loadConfig(config);
  // A backfill of two days records its fetched slices in the entity state.
  const first = await executeRun({ sources: [source], entities: "ALL", from: "2024-01-01", to: "2024-01-02", options: { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 4 } });
  assert.equal(first.status, "succeeded", first.errors.join("; "));
  const state = fs.readFileSync(path.join(out, "state", "fleet", "vehicle_stats.json"), "utf8");
  const requests = api.stats().total;
  const raw = { drivers: lakeRows(out, "raw", "drivers"), vehicle_stats: lakeRows(out, "raw", "vehicle_stats") };
  assert.ok(raw.vehicle_stats.length > 0);
  // dt= is the UTC day of the fetch: one day for all of this run's rows.
  const days = [...new Set([...raw.drivers, ...raw.vehicle_stats].map((r) => String(r._ingested_at).slice(0, 10)))];
  assert.equal(days.length, 1, `fetched across UTC days ${days.join(", ")}`);
  const dayBefore = new Date(Date.parse(days[0]) - 86_400_000).toISOString().slice(0, 10);

  const none = parseOptions("run", ["--from-raw", "--from", "2024-01-01", "--to", dayBefore, "--config", config, "--out", out]);
  assert.equal(await runCommand(none.options), 0);
  const empty = newestManifest(out);
  assert.deepEqual([empty.entities.drivers.fetched, empty.entities.vehicle_stats.fetched], [0, 0]);

  const all = parseOptions("run", ["--from-raw", "--from", days[0], "--to", days[0], "--config", config, "--out", out]);
  assert.equal(await runCommand(all.options), 0);
  const rebuilt = newestManifest(out);
  assert.deepEqual([rebuilt.entities.drivers.fetched, rebuilt.entities.vehicle_stats.fetched], [raw.drivers.length, raw.vehicle_stats.length]);
  assert.equal(api.stats().total, requests, "a rebuild called the API");
  assert.equal(fs.readFileSync(path.join(out, "state", "fleet", "vehicle_stats.json"), "utf8"), state, "a rebuild changed the entity state");
});

test("raw shards back to records: the entity's dt= days in range; lineage taken off; unreadable lines name file and line", () => {
  const paths = [
    "raw/drivers/dt=2026-11-02/r2-b-0-0.ndjson",
    "raw/drivers/dt=2026-11-01/r1-a-0-0.ndjson",
    "raw/drivers_requests/dt=2026-11-01/r1-a-0-0.ndjson",
    "raw/drivers/dt=2026-11-03/r3-c-0-0.ndjson",
  ];
  assert.deepEqual(rawShardsOf(paths, "drivers").map((s) => s.path), [paths[1], paths[0], paths[3]]);
  assert.deepEqual(rawShardsOf(paths, "drivers", { from: "2026-11-02", to: "2026-11-02" }).map((s) => s.path), [paths[0]]);
  assert.deepEqual(rawShardsOf(paths, "drivers", { to: "2026-11-01" }).map((s) => s.path), [paths[1]]);

  const line = JSON.stringify({ id: "7", phone: "4155550199", _ingested_at: "2026-11-01T10:00:00.000Z", _run_id: "r1", _source: "/fleet/drivers", _page: "2", _payload_hash: "h" });
  const text = [line, "", "{\"id\":\"8\"}", "{not json"].join("\n");
  const elements = rawShardElements(text, { entity: "drivers", path: paths[1] }, { source: "fleet", runId: "r9" });
  assert.deepEqual(elements.filter((e) => "record" in e), [
    { record: { source: "fleet", entity: "drivers", record: { id: "7", phone: "4155550199" }, _source: "/fleet/drivers", _page: "2", fetched_at: "2026-11-01T10:00:00.000Z" } },
  ]);
  const dead = elements.flatMap((e) => ("deadLetter" in e ? [[e.deadLetter.stage, e.deadLetter.error, e.deadLetter.run_id]] : []));
  assert.deepEqual(dead, [
    ["parse", `raw lake ${paths[1]} line 3: lineage column "_ingested_at" is missing or not a string`, "r9"],
    ["parse", `raw lake ${paths[1]} line 4: not JSON (${jsonError("{not json")})`, "r9"],
  ]);
});

