import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FLEET_CATALOG_BASE_MS, startDemoApi } from "../../sources/demo-api/index";
import { executeRun } from "../../pipeline/run";
import { sourceSchema, type SourceConfigInput } from "../../model/source-config";
import { fetchSeries } from "../../sources/rest/fetch-pages";
import { compareCursor, cursorStart } from "../../sources/rest/cursor";
import { foldCursorCandidates } from "../../sources/rest/state";
import { sql } from "../golden/helpers";

const at = (minutes: number) => new Date(FLEET_CATALOG_BASE_MS + minutes * 60_000).toISOString();

function vehiclesSource(url: string, incremental: Record<string, unknown>, extra: Record<string, unknown> = {}): SourceConfigInput {
  return {
    name: "catalog",
    baseUrl: url,
    auth: { type: "bearer", token: "demo-token" },
    paginator: { type: "cursor", cursorParam: "after", cursorPath: "pagination.endCursor", hasMorePath: "pagination.hasNextPage", limitParam: "limit", limit: 1 },
    entities: {
      vehicles: { path: "/fleet/vehicles", primaryKey: ["id"], orderBy: "updated_at", incremental: incremental, ...extra },
    },
  } as unknown as SourceConfigInput;
}

test("cursor field with a lag window: the second run re-reads the last hour, lands a late record, and the hub has no duplicate", async () => {
  const api = await startDemoApi({ seed: 42 });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-cursor-"));
  try {
    const source = sourceSchema.parse(vehiclesSource(api.url, { cursorField: "updated_at", param: "updated_since", initial: "2025-06-01T00:00:00Z", lag: "PT1H" }));
    const options = { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 2 };
    const first = await executeRun({ sources: [source], entities: "ALL", options: options });
    assert.equal(first.status, "succeeded", first.errors.join("\n"));
    assert.equal(api.stats().byPath["/fleet/vehicles"], 3);

    // A late vehicle dated inside the lag window (before the committed 02:00), and a new one after it.
    api.fleetCatalog.putVehicle({ id: "V005", name: "Late", updated_at: at(90) });
    api.fleetCatalog.putVehicle({ id: "V004", name: "New", updated_at: at(180) });
    api.resetStats();
    const second = await executeRun({ sources: [source], entities: "ALL", options: options });
    assert.equal(second.status, "succeeded", second.errors.join("\n"));
    // updated_since = 02:00 - 1 h (inclusive): V002 (01:00) and V003 (02:00) again, V005 (01:30), V004 (03:00),
    // one per page; V001 is not read again.
    assert.deepEqual(api.stats().arrivals.map((a) => a.path), ["/fleet/vehicles", "/fleet/vehicles", "/fleet/vehicles", "/fleet/vehicles"]);
    assert.equal(second.entities.vehicles.fetched, 4);
    assert.equal(second.entities.vehicles.hub_inserted, 2);
    assert.deepEqual(await sql(out, "SELECT id, name, updated_at FROM hub.vehicles ORDER BY id"), [
      { id: "V001", name: "Truck 1", updated_at: at(0) },
      { id: "V002", name: "Truck 2", updated_at: at(60) },
      { id: "V003", name: "Truck 3", updated_at: at(120) },
      { id: "V004", name: "New", updated_at: at(180) },
      { id: "V005", name: "Late", updated_at: at(90) },
    ]);
    const state = JSON.parse(fs.readFileSync(path.join(out, "state/catalog/vehicles.json"), "utf8"));
    assert.equal(state.cursor, at(180));
  } finally {
    await api.close();
  }
});

test("order: desc stops paging after the first page older than the start (records of that page are kept)", async () => {
  const api = await startDemoApi({ seed: 42 });
  try {
    // V001's stats at 00:00, 00:15, 00:30, 00:45, newest first, one per page; the start is 00:20.
    const source = sourceSchema.parse(vehiclesSource(api.url, { cursorField: "updated_at", initial: "2025-01-01T00:00:00Z", order: "desc" }, {
      path: "/fleet/vehicles/V001/stats", primaryKey: ["time"], params: { order: "desc" },
    }));
    const series = await fetchSeries({ source: source, entity: "vehicles", since: at(20) }, { runId: "r1" });
    assert.equal(series.complete, true);
    assert.deepEqual(series.pages.flatMap((p) => p.records.map((r) => (r as { time: string }).time)), [at(45), at(30), at(15)]);
    assert.equal(api.stats().byPath["/fleet/vehicles/V001/stats"], 3);
    // Without a start it reads every page (4 records, and the last page says no more).
    api.resetStats();
    const all = await fetchSeries({ source: source, entity: "vehicles" }, { runId: "r1" });
    assert.equal(all.pages.flatMap((p) => p.records).length, 4);
    assert.equal(api.stats().byPath["/fleet/vehicles/V001/stats"], 4);
  } finally {
    await api.close();
  }
});

test("cursor start: committed cursor minus the lag, never before initial; instants compare across offsets", () => {
  const config = { initial: "2024-01-01T00:00:00Z", lag: "PT1H" };
  assert.equal(cursorStart(null, config), "2024-01-01T00:00:00Z");
  assert.equal(cursorStart("2024-03-01T12:00:00Z", config), "2024-03-01T11:00:00.000Z");
  assert.equal(cursorStart("2024-01-01T00:30:00Z", config), "2024-01-01T00:00:00Z");
  assert.equal(cursorStart(1500, { initial: 1000 }), 1500);
  assert.equal(cursorStart(500, { initial: 1000 }), 1000);
  assert.equal(compareCursor("2024-03-01T01:00:00+01:00", "2024-03-01T00:00:00Z"), 0);
  assert.ok(compareCursor("2024-03-01T00:00:00.500Z", "2024-03-01T00:00:00Z") > 0);
  assert.ok(compareCursor(9, 10) < 0);
});

test("pending cursors: a failed series holds its entity's cursor, or only its own parent key", () => {
  const top = foldCursorCandidates("s", "a", [
    { source: "s", entity: "a", cursor: "2024-01-02T00:00:00Z", complete: true },
    { source: "s", entity: "a", cursor: "2024-01-03T00:00:00Z", complete: false },
  ]);
  assert.deepEqual(top, { source: "s", entity: "a", cursor: null, parents: {} });
  const child = foldCursorCandidates("s", "c", [
    { source: "s", entity: "c", parentKey: "p1", cursor: 5, complete: true },
    { source: "s", entity: "c", parentKey: "p1", cursor: 7, complete: true },
    { source: "s", entity: "c", parentKey: "p2", cursor: 9, complete: false },
    { source: "s", entity: "c", parentKey: "p3", cursor: null, complete: true },
  ]);
  assert.deepEqual(child, { source: "s", entity: "c", cursor: null, parents: { p1: 7 } });
});

test("config: wrong incremental and parent combinations are rejected naming the key path", () => {
  const issues = (entities: Record<string, unknown>) => {
    const parsed = sourceSchema.safeParse({ name: "s", baseUrl: "http://x", entities: entities });
    assert.equal(parsed.success, false);
    return parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  const inc = { cursorField: "updated_at", param: "since", initial: "2024-01-01T00:00:00Z" };
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], incremental: inc, slices: { startParam: "from" } } }), [
    "entities.a.incremental: incremental and slices exclude each other: pick one",
  ]);
  assert.deepEqual(issues({ a: { path: "/a/{parent.id}", primaryKey: ["id"], parent: "nope" } }), [
    "entities.a.parent: names no entity of this source (known: a)",
  ]);
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], parent: "b" }, b: { path: "/b", primaryKey: ["id"], parent: "a" } }), [
    "entities.a.parent: parent cycle: a -> b -> a",
    "entities.b.parent: parent cycle: b -> a -> b",
  ]);
  assert.deepEqual(issues({ a: { path: "/a/{parent.id}", primaryKey: ["id"], include: ["parent.name"] } }), [
    "entities.a.include: include needs parent",
    "entities.a.path: {parent.<field>} needs parent",
  ]);
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], incremental: { ...inc, lag: "1 hour" } } }), [
    "entities.a.incremental.lag: must be an ISO-8601 duration such as PT1H or P1D",
  ]);
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], incremental: { ...inc, initial: 0, lag: "PT1H" } } }), [
    "entities.a.incremental.lag: lag is a duration: it needs a timestamp cursor (initial is a number)",
  ]);
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], incremental: { ...inc, end: "2025-01-01T00:00:00Z" } } }), [
    "entities.a.incremental.endParam: end and endParam go together",
  ]);
  assert.deepEqual(issues({ a: { path: "/a", primaryKey: ["id"], incremental: { cursorField: "t", initial: 0 } } }), [
    "entities.a.incremental.param: param is required unless order: desc",
  ]);
});
