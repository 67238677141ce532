import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { catalogStat, FLEET_CATALOG_BASE_MS, startDemoApi, type DemoApi } from "../../sources/demo-api/index";
import { executeRun } from "../../pipeline/run";
import { loadSourceConfig } from "../../sources/rest/config-loader";
import { readState } from "../../sources/rest/state";
import { sourceSchema, type SourceConfig } from "../../model/source-config";
import type { DeadLetter } from "../../model/dead-letter";
import { fetchWorkItem, planChildItems } from "../../sources/rest/work-item";
import { entityForParent, includedColumns } from "../../sources/rest/parent-child";
import { sql } from "../golden/helpers";

const SEED = 42;
const at = (minutes: number) => new Date(FLEET_CATALOG_BASE_MS + minutes * 60_000).toISOString();
const store = (out: string) => ({
  readText: async (p: string) => (fs.existsSync(path.join(out, p)) ? fs.readFileSync(path.join(out, p), "utf8") : undefined),
  writeText: async () => undefined,
});

async function withDemo(body: (api: DemoApi, source: SourceConfig, out: string) => Promise<void>, edit?: (s: SourceConfig) => void): Promise<void> {
  const api = await startDemoApi({ seed: SEED });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-parent-child-"));
  const env = { API2LAKE_DEMO_URL: api.url, API2LAKE_DEMO_TOKEN: "demo-token" };
  Object.assign(process.env, env);
  try {
    const source = loadSourceConfig("presets/fleet-incremental.yaml", { env: env });
    if (edit) edit(source);
    await body(api, source, out);
  } finally {
    for (const name of Object.keys(env)) delete process.env[name];
    await api.close();
  }
}

const run = (source: SourceConfig, out: string) =>
  executeRun({ sources: [source], entities: "ALL", options: { out: out, runner: "direct", sink: "local", requestConcurrency: 4 } });

const statRows = (vehicle: number, stats: number[]) => stats.map((j) => {
  const s = catalogStat(SEED, vehicle, j);
  return { _parent_id: `V00${vehicle + 1}`, _parent_name: `Truck ${vehicle + 1}`, time: s.time, engine_hours: s.engine_hours };
});

const HUB_STATS = "SELECT _parent_id, _parent_name, strftime(time, '%Y-%m-%dT%H:%M:%S.000Z') AS time, engine_hours FROM hub.vehicle_engine_hours ORDER BY _parent_id, time";

test("parent -> child: per-vehicle stats with a cursor per vehicle; the second run follows only new or changed vehicles and asks only for new stats", async () => {
  await withDemo(async (api, source, out) => {
    const first = await run(source, out);
    assert.equal(first.status, "succeeded", first.errors.join("\n"));
    // Vehicles: 2 pages of 2; each vehicle's 4 stats: 2 pages of 2.
    assert.deepEqual(api.stats().byPath, {
      "/fleet/vehicles": 2, "/fleet/vehicles/V001/stats": 2, "/fleet/vehicles/V002/stats": 2, "/fleet/vehicles/V003/stats": 2,
    });
    assert.deepEqual(await sql(out, HUB_STATS), [...statRows(0, [0, 1, 2, 3]), ...statRows(1, [0, 1, 2, 3]), ...statRows(2, [0, 1, 2, 3])]);
    const afterFirst = await readState(store(out), "fleet_incremental", "vehicle_engine_hours");
    assert.deepEqual(afterFirst.parents, { V001: at(45), V002: at(45), V003: at(45) });
    assert.equal((await readState(store(out), "fleet_incremental", "vehicles")).cursor, at(120));

    // Between runs: a new vehicle with one stat, and V001 changed with a new stat.
    api.fleetCatalog.putVehicle({ id: "V004", name: "Truck 4", updated_at: at(180) });
    api.fleetCatalog.addStat("V004", { time: at(0), engine_hours: 7, updated_at: at(0) });
    api.fleetCatalog.putVehicle({ id: "V001", name: "Truck 1b", updated_at: at(240) });
    api.fleetCatalog.addStat("V001", { time: at(60), engine_hours: 1099, updated_at: at(60) });
    api.resetStats();

    const second = await run(source, out);
    assert.equal(second.status, "succeeded", second.errors.join("\n"));
    // updated_since=120 (inclusive): V003 (unchanged, at the bound), V004, V001 - V002 is not followed.
    assert.deepEqual(api.stats().byPath, {
      "/fleet/vehicles": 2, "/fleet/vehicles/V001/stats": 2, "/fleet/vehicles/V003/stats": 1, "/fleet/vehicles/V004/stats": 1,
    });
    const ids = await sql(out, "SELECT id, name FROM hub.vehicles ORDER BY id");
    assert.deepEqual(ids, [{ id: "V001", name: "Truck 1b" }, { id: "V002", name: "Truck 2" }, { id: "V003", name: "Truck 3" }, { id: "V004", name: "Truck 4" }]);
    // No duplicate from the lag re-read: the hub merges by primary key, and a re-read version with an equal
    // `updated_at` replaces the stored one, so V001's stats from 00:30 (45 minutes minus the lag) on carry
    // the parent's new name; the older ones keep theirs.
    const v1 = statRows(0, [0, 1, 2, 3]).map((r, j) => (j >= 2 ? { ...r, _parent_name: "Truck 1b" } : r));
    assert.deepEqual(await sql(out, HUB_STATS), [
      ...v1, { _parent_id: "V001", _parent_name: "Truck 1b", time: at(60), engine_hours: 1099 },
      ...statRows(1, [0, 1, 2, 3]), ...statRows(2, [0, 1, 2, 3]),
      { _parent_id: "V004", _parent_name: "Truck 4", time: at(0), engine_hours: 7 },
    ]);
    const afterSecond = await readState(store(out), "fleet_incremental", "vehicle_engine_hours");
    assert.deepEqual(afterSecond.parents, { V001: at(60), V002: at(45), V003: at(45), V004: at(0) });
  });
});

test("parent -> child: a vehicle whose stats fetch fails keeps its cursor; the others move, and the next run retries it", async () => {
  await withDemo(async (api, source, out) => {
    api.setFaults([{ path: "/fleet/vehicles/V002/stats", kind: "status", status: 400 }]);
    const first = await run(source, out);
    assert.equal(first.status, "failed");
    assert.equal(first.entities.vehicle_engine_hours.fetch_failed_pages, 1);
    assert.deepEqual((await readState(store(out), "fleet_incremental", "vehicle_engine_hours")).parents, { V001: at(45), V003: at(45) });
    // The vehicles cursor stays put so that V002 is read (and followed) again.
    assert.equal((await readState(store(out), "fleet_incremental", "vehicles")).cursor, null);
    assert.deepEqual(await sql(out, "SELECT _parent_id, count(*)::INTEGER AS n FROM hub.vehicle_engine_hours GROUP BY 1 ORDER BY 1"), [
      { _parent_id: "V001", n: 4 }, { _parent_id: "V003", n: 4 },
    ]);

    api.setFaults([]);
    api.resetStats();
    const second = await run(source, out);
    assert.equal(second.status, "succeeded", second.errors.join("\n"));
    // V001 and V003 ask from their own cursor minus the lag (00:30: one page of 2), V002 from the start (2 pages).
    assert.deepEqual(api.stats().byPath, {
      "/fleet/vehicles": 2, "/fleet/vehicles/V001/stats": 1, "/fleet/vehicles/V002/stats": 2, "/fleet/vehicles/V003/stats": 1,
    });
    assert.deepEqual(await sql(out, HUB_STATS), [...statRows(0, [0, 1, 2, 3]), ...statRows(1, [0, 1, 2, 3]), ...statRows(2, [0, 1, 2, 3])]);
    assert.deepEqual((await readState(store(out), "fleet_incremental", "vehicle_engine_hours")).parents, { V001: at(45), V002: at(45), V003: at(45) });
    assert.equal((await readState(store(out), "fleet_incremental", "vehicles")).cursor, at(120));
  });
});

test("parent -> child planning: templates in path, params and body; a parent record lacking a field is a fetch dead letter naming it", async () => {
  const config = sourceSchema.parse({
    name: "s", baseUrl: "http://127.0.0.1:9",
    entities: {
      fleets: { path: "/fleets", primaryKey: ["id"] },
      trucks: {
        parent: "fleets", path: "/fleets/{parent.id}/trucks", params: { region: "{parent.meta.region}" },
        method: "POST", body: { query: "q", variables: { fleet: "{parent.id}", label: "fleet {parent.name}" } },
        include: ["parent.name"], primaryKey: ["vin"],
        incremental: { cursorField: "seen", param: "since", initial: "2024-01-01T00:00:00Z", lag: "PT1H" },
      },
    },
  });
  const record = (row: Record<string, unknown>) => ({ source: "s", entity: "fleets", record: row, _source: "/fleets", _page: "1", fetched_at: "2026-01-01T00:00:00.000Z" });
  const cursors = { trucks: { cursor: null, parents: { "7": "2024-05-01T10:00:00Z" } } };
  const items = planChildItems(config, record({ id: 7, name: "North/East", meta: { region: "eu" } }), { cursors: cursors });
  assert.deepEqual(items, [{ entity: "trucks", pathParams: {}, parent: { entity: "fleets", key: "7", values: { id: 7, "meta.region": "eu", name: "North/East" } }, since: "2024-05-01T09:00:00.000Z" }]);
  const filled = entityForParent(config.entities.trucks, items[0].parent!.values);
  assert.equal(filled.path, "/fleets/7/trucks");
  assert.deepEqual(filled.params, { region: "eu" });
  assert.deepEqual(filled.body, { query: "q", variables: { fleet: 7, label: "fleet North/East" } });
  assert.deepEqual(includedColumns(config.entities.trucks, items[0].parent!.values), { _parent_name: "North/East" });
  // A new parent starts at `initial`.
  assert.equal(planChildItems(config, record({ id: 8, name: "n", meta: { region: "us" } }), { cursors: cursors })[0].since, "2024-01-01T00:00:00Z");

  const broken = planChildItems(config, record({ id: 9, name: "x" }), {});
  assert.equal(broken.length, 1);
  const elements = await fetchWorkItem(config, broken[0], { runId: "r1" });
  assert.equal(elements.length, 1);
  const dead = (elements[0] as { deadLetter: DeadLetter }).deadLetter;
  assert.equal(dead.stage, "fetch");
  assert.equal(dead.entity, "trucks");
  assert.equal(dead.error, "parent fleets record has no scalar value for {parent.meta.region} (record from /fleets page 1)");
});

test("demo vehicle catalog: control routes add vehicles and stats; the routes filter on updated_since and sort", async () => {
  const api = await startDemoApi({ seed: SEED });
  const auth = { authorization: "Bearer demo-token" };
  const post = (p: string, body: unknown) => fetch(api.url + p, { method: "POST", headers: auth, body: JSON.stringify(body) });
  const get = async (p: string) => {
    const res = await fetch(api.url + p, { headers: auth });
    return { status: res.status, body: (await res.json()) as { data: { id?: string; time?: string }[] } };
  };
  try {
    assert.equal((await post("/_fleet/vehicles", { id: "V009", name: "Nine", updated_at: at(300) })).status, 200);
    assert.equal((await post("/_fleet/vehicles/V009/stats", { time: at(5), engine_hours: 1, updated_at: at(5) })).status, 200);
    assert.equal((await post("/_fleet/vehicles/V404/stats", { time: at(5), engine_hours: 1, updated_at: at(5) })).status, 400);
    assert.equal((await post("/_fleet/vehicles", { id: "V010" })).status, 400);
    const since = encodeURIComponent(at(60));
    assert.deepEqual((await get(`/fleet/vehicles?updated_since=${since}`)).body.data.map((v) => v.id), ["V002", "V003", "V009"]);
    assert.deepEqual((await get("/fleet/vehicles/V009/stats")).body.data.map((s) => s.time), [at(5)]);
    assert.deepEqual((await get(`/fleet/vehicles/V001/stats?order=desc&updated_since=${encodeURIComponent(at(15))}`)).body.data.map((s) => s.time), [at(45), at(30), at(15)]);
    assert.equal((await get("/fleet/vehicles/V404/stats")).status, 404);
    // Control requests are not counted; the four API requests are.
    assert.equal(api.stats().total, 4);
  } finally {
    await api.close();
  }
});
