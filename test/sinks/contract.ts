import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "crypto";
import type { Lake, ServingRow, ServingStore, TableSpec, Warehouse } from "../../model/backends";
import type { Row } from "../../model/row";
import type { ServingConfig } from "../../model/source-config";
import { deadLetter } from "../../model/dead-letter";
import { buildServingRow } from "../../sinks/serving-row";

/**
 * One behaviour suite per backend kind, run against every implementation (the local engines in
 * local.test.ts, the cloud ones against their emulators). Each function registers node:test
 * tests. Every test uses names of its own (random suffixes), so a harness may hand out the same
 * backend to every test; it is opened through the factory for each test and closed after it.
 *
 * @example
 * lakeContract("gcs (fake-gcs-server)", async () => ({ lake: new GcsLake({ bucket }), readObject: (p) => readGcs(bucket, "lake/" + p) }));
 * warehouseContract("bigquery (emulator)", async () => ({ warehouse: wh, table: (schema, name) => `${prefix}${schema}.${name}` }));
 * servingContract("bigtable (emulator)", async () => ({ store: store }));
 */

export interface LakeHarness {
  lake: Lake;
  /** The content of a committed object, by its path relative to the lake root; undefined if absent. */
  readObject(relativePath: string): Promise<string | undefined>;
  close?(): Promise<void>;
}

export type WarehouseSchemaName = "lake" | "hub" | "dataproducts";

export interface WarehouseHarness {
  warehouse: Warehouse;
  /** The name to use in `warehouse.query` SQL for a table, e.g. `hub.customers` or `dev_hub.customers`. */
  table(schema: WarehouseSchemaName, name: string): string;
  close?(): Promise<void>;
}

export interface ServingHarness {
  store: ServingStore;
  close?(): Promise<void>;
}

const suffix = () => crypto.randomBytes(4).toString("hex");

async function withHarness<H extends { close?(): Promise<void> }>(make: () => Promise<H>, body: (h: H) => Promise<void>): Promise<void> {
  const h = await make();
  try {
    await body(h);
  } finally {
    if (h.close) await h.close();
  }
}

const parseNdjson = (text: string | undefined): Row[] =>
  (text ?? "").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Row);

// ---------------------------------------------------------------------------------------------
// Lake

export function lakeContract(name: string, makeLake: () => Promise<LakeHarness>): void {
  const shard = (entity: string, runId: string, shardId: string, rows: Row[], dt = "2026-01-15") =>
    ({ layer: "raw" as const, entity: entity, dt: dt, runId: runId, shard: shardId, rows: rows });

  test(`${name} lake: a shard is invisible until its run commits, then listed at its final path`, async () => {
    await withHarness(makeLake, async ({ lake, readObject }) => {
      const entity = `customers_${suffix()}`;
      const run = `run-${suffix()}`;
      const rows = [{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }];
      const rel = await lake.writeShard(shard(entity, run, "w0-0", rows));
      assert.equal(rel, `raw/${entity}/dt=2026-01-15/${run}-w0-0.ndjson`);
      assert.deepEqual(await lake.list(`raw/${entity}/`), []);
      assert.equal(await readObject(rel), undefined);
      await lake.commit(run);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [rel]);
      assert.deepEqual(parseNdjson(await readObject(rel)), rows);
    });
  });

  test(`${name} lake: committing one run does not publish another run's pending shards`, async () => {
    await withHarness(makeLake, async ({ lake }) => {
      const entity = `orders_${suffix()}`;
      const a = `run-a-${suffix()}`;
      const b = `run-b-${suffix()}`;
      const pa = await lake.writeShard(shard(entity, a, "s0", [{ id: 1 }]));
      const pb = await lake.writeShard(shard(entity, b, "s0", [{ id: 2 }]));
      await lake.commit(b);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [pb]);
      await lake.commit(a);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [pa, pb].sort());
    });
  });

  test(`${name} lake: two runs with the same shard id write two files, neither appends to the other`, async () => {
    await withHarness(makeLake, async ({ lake, readObject }) => {
      const entity = `events_${suffix()}`;
      const r1 = `run-1-${suffix()}`;
      const r2 = `run-2-${suffix()}`;
      const p1 = await lake.writeShard(shard(entity, r1, "w0-0", [{ id: 1 }]));
      await lake.commit(r1);
      const p2 = await lake.writeShard(shard(entity, r2, "w0-0", [{ id: 2 }, { id: 3 }]));
      await lake.commit(r2);
      assert.notEqual(p1, p2);
      assert.deepEqual(parseNdjson(await readObject(p1)), [{ id: 1 }]);
      assert.deepEqual(parseNdjson(await readObject(p2)), [{ id: 2 }, { id: 3 }]);
      assert.equal((await lake.list(`raw/${entity}/`)).length, 2);
    });
  });

  test(`${name} lake: shards of one run are unique per shard id and dt; a rewritten pending shard replaces its content`, async () => {
    await withHarness(makeLake, async ({ lake, readObject }) => {
      const entity = `sales_${suffix()}`;
      const run = `run-${suffix()}`;
      const a = await lake.writeShard(shard(entity, run, "w0-0", [{ id: 1 }]));
      const b = await lake.writeShard(shard(entity, run, "w0-1", [{ id: 2 }]));
      const c = await lake.writeShard(shard(entity, run, "w0-0", [{ id: 3 }], "2026-01-16"));
      const retried = await lake.writeShard(shard(entity, run, "w0-1", [{ id: 22 }]));
      assert.equal(retried, b);
      await lake.commit(run);
      assert.equal(new Set([a, b, c]).size, 3);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [a, b, c].sort());
      assert.deepEqual(await lake.list(`raw/${entity}/dt=2026-01-16/`), [c]);
      assert.deepEqual(parseNdjson(await readObject(b)), [{ id: 22 }]);
    });
  });

  test(`${name} lake: commit is idempotent and a run with nothing pending commits nothing`, async () => {
    await withHarness(makeLake, async ({ lake, readObject }) => {
      const entity = `drivers_${suffix()}`;
      const run = `run-${suffix()}`;
      const p = await lake.writeShard(shard(entity, run, "s", [{ id: 1 }]));
      await lake.commit(run);
      await lake.commit(run);
      await lake.commit(`empty-${suffix()}`);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [p]);
      assert.deepEqual(parseNdjson(await readObject(p)), [{ id: 1 }]);
    });
  });

  test(`${name} lake: layers are separate prefixes`, async () => {
    await withHarness(makeLake, async ({ lake }) => {
      const entity = `jobs_${suffix()}`;
      const run = `run-${suffix()}`;
      const raw = await lake.writeShard(shard(entity, run, "s", [{ id: 1 }]));
      const dead = await lake.writeShard({ layer: "deadletter", entity: entity, dt: "2026-01-15", runId: run, shard: "s", rows: [{ error: "x" }] });
      await lake.commit(run);
      assert.deepEqual(await lake.list(`deadletter/${entity}/`), [dead]);
      assert.deepEqual(await lake.list(`raw/${entity}/`), [raw]);
      assert.deepEqual(await lake.list(`processed/${entity}/`), []);
    });
  });

  test(`${name} lake: bad shard names are refused`, async () => {
    await withHarness(makeLake, async ({ lake }) => {
      await assert.rejects(lake.writeShard(shard("ok", "run", "s", [], "2026/01/15")), /dt/);
      await assert.rejects(lake.writeShard(shard("../escape", "run", "s", [])), /entity/);
      await assert.rejects(lake.writeShard({ ...shard("ok", "run", "s", []), layer: "bronze" as never }), /layer/);
    });
  });

  test(`${name} lake: text files beside the lake round-trip, overwrite, and read as undefined when absent`, async () => {
    await withHarness(makeLake, async ({ lake }) => {
      const id = suffix();
      assert.equal(await lake.readText(`runs/${id}.json`), undefined);
      await lake.writeText(`runs/${id}.json`, '{"fetched":1}');
      await lake.writeText(`state/rest/${id}/watermark.json`, "2026-01-15T00:00:00Z");
      assert.equal(await lake.readText(`runs/${id}.json`), '{"fetched":1}');
      await lake.writeText(`runs/${id}.json`, '{"fetched":2}');
      assert.equal(await lake.readText(`runs/${id}.json`), '{"fetched":2}');
      assert.equal(await lake.readText(`state/rest/${id}/watermark.json`), "2026-01-15T00:00:00Z");
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Warehouse

/** Values as a warehouse reads them back, compared across engines: dates as `YYYY-MM-DD`, timestamps as epoch ms, JSON parsed. */
function normalize(row: Row, spec: Record<string, "date" | "timestamp" | "json" | "other">): Row {
  const out: Row = {};
  for (const k of Object.keys(row)) {
    const v = row[k];
    const kind = spec[k] ?? "other";
    if (v === null || v === undefined) out[k] = null;
    else if (kind === "date") out[k] = String(v).slice(0, 10);
    else if (kind === "timestamp") out[k] = Date.parse(String(v).replace(" ", "T").replace(/(\d)$/, "$1Z"));
    else if (kind === "json") out[k] = typeof v === "string" ? JSON.parse(v) : v;
    else if (typeof v === "bigint") out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

export function warehouseContract(name: string, makeWarehouse: () => Promise<WarehouseHarness>): void {
  const customers = (table: string): TableSpec => ({
    name: table,
    columns: [
      { name: "customer_id", type: "integer" },
      { name: "name", type: "string" },
      { name: "score", type: "number" },
      { name: "active", type: "boolean" },
      { name: "signup", type: "date" },
      { name: "updated_at", type: "timestamp" },
      { name: "tags", type: "json" },
    ],
    primaryKey: ["customer_id"],
  });
  const kinds = { signup: "date", updated_at: "timestamp", tags: "json" } as const;
  const countOf = async (wh: Warehouse, table: string) => Number((await wh.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  test(`${name} warehouse: appendLake creates a typed table and appends`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `raw_customers_${suffix()}`;
      const rows = [
        { customer_id: 1, name: "Ada", score: 1.5, active: true, signup: "2026-01-15", updated_at: "2026-01-15T10:00:00.123Z", tags: ["a", "b"] },
        { customer_id: 2, name: "Grace", score: -2, active: false, signup: "2026-01-16", updated_at: "2026-01-16T23:59:59Z", tags: { vip: true } },
      ];
      await warehouse.appendLake(customers(t), rows);
      const got = (await warehouse.query(`SELECT * FROM ${table("lake", t)} ORDER BY customer_id`)).map((r) => normalize(r, kinds));
      assert.deepEqual(got, rows.map((r) => normalize(r, kinds)));
      assert.equal(typeof got[0].customer_id, "number");
      assert.equal(typeof got[0].active, "boolean");
      await warehouse.appendLake(customers(t), rows.slice(0, 1));
      assert.equal(await countOf(warehouse, table("lake", t)), 3);
    });
  });

  test(`${name} warehouse: mergeHub twice with the same rows leaves the table as once`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `customers_${suffix()}`;
      const rows = [1, 2, 3].map((i) => ({ customer_id: i, name: `c${i}`, score: i / 2, active: i % 2 === 0, signup: "2026-01-15", updated_at: "2026-01-15T10:00:00Z", tags: [i] }));
      const read = async () => (await warehouse.query(`SELECT * FROM ${table("hub", t)} ORDER BY customer_id`)).map((r) => normalize(r, kinds));
      await warehouse.mergeHub(customers(t), rows);
      const once = await read();
      assert.equal(once.length, 3);
      await warehouse.mergeHub(customers(t), rows);
      assert.deepEqual(await read(), once);
    });
  });

  test(`${name} warehouse: mergeHub replaces an updated row and keeps the others; the last duplicate in a batch wins`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `customers_${suffix()}`;
      await warehouse.mergeHub(customers(t), [
        { customer_id: 1, name: "old", score: 1 },
        { customer_id: 2, name: "keep", score: 2 },
      ]);
      await warehouse.mergeHub(customers(t), [
        { customer_id: 1, name: "first", score: 10 },
        { customer_id: 3, name: "new", score: 3 },
        { customer_id: 1, name: "latest", score: 11 },
      ]);
      const got = await warehouse.query(`SELECT customer_id, name, score FROM ${table("hub", t)} ORDER BY customer_id`);
      assert.deepEqual(got, [
        { customer_id: 1, name: "latest", score: 11 },
        { customer_id: 2, name: "keep", score: 2 },
        { customer_id: 3, name: "new", score: 3 },
      ]);
    });
  });

  test(`${name} warehouse: mergeHub on a composite key`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `stats_${suffix()}`;
      const spec: TableSpec = { name: t, columns: [{ name: "vehicle", type: "string" }, { name: "day", type: "date" }, { name: "km", type: "number" }], primaryKey: ["vehicle", "day"] };
      await warehouse.mergeHub(spec, [{ vehicle: "v1", day: "2026-01-15", km: 1 }, { vehicle: "v1", day: "2026-01-16", km: 2 }, { vehicle: "v2", day: "2026-01-15", km: 3 }]);
      await warehouse.mergeHub(spec, [{ vehicle: "v1", day: "2026-01-16", km: 20 }]);
      const got = (await warehouse.query(`SELECT vehicle, day, km FROM ${table("hub", t)} ORDER BY vehicle, day`)).map((r) => normalize(r, { day: "date" }));
      assert.deepEqual(got, [
        { vehicle: "v1", day: "2026-01-15", km: 1 },
        { vehicle: "v1", day: "2026-01-16", km: 20 },
        { vehicle: "v2", day: "2026-01-15", km: 3 },
      ]);
    });
  });

  test(`${name} warehouse: mergeHub without a primary key is refused`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse }) => {
      await assert.rejects(warehouse.mergeHub({ name: `nokey_${suffix()}`, columns: [{ name: "a", type: "string" }] }, [{ a: "x" }]), /primaryKey|primary key/i);
    });
  });

  test(`${name} warehouse: replaceDataProduct replaces only the partitions present`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `sensor_daily_averages_${suffix()}`;
      const spec: TableSpec = {
        name: t,
        columns: [{ name: "station_id", type: "string" }, { name: "day", type: "date" }, { name: "co_avg", type: "number" }, { name: "readings", type: "integer" }],
        partitionColumn: "day",
      };
      await warehouse.replaceDataProduct(spec, [
        { station_id: "s1", day: "2026-01-15", co_avg: 1, readings: 24 },
        { station_id: "s2", day: "2026-01-15", co_avg: 2, readings: 24 },
        { station_id: "s1", day: "2026-01-16", co_avg: 3, readings: 24 },
        { station_id: "s2", day: "2026-01-16", co_avg: 4, readings: 24 },
      ]);
      await warehouse.replaceDataProduct(spec, [{ station_id: "s1", day: "2026-01-16", co_avg: 30, readings: 12 }]);
      const got = (await warehouse.query(`SELECT station_id, day, co_avg, readings FROM ${table("dataproducts", t)} ORDER BY day, station_id`)).map((r) => normalize(r, { day: "date" }));
      assert.deepEqual(got, [
        { station_id: "s1", day: "2026-01-15", co_avg: 1, readings: 24 },
        { station_id: "s2", day: "2026-01-15", co_avg: 2, readings: 24 },
        { station_id: "s1", day: "2026-01-16", co_avg: 30, readings: 12 },
      ]);
    });
  });

  test(`${name} warehouse: replaceDataProduct without a partition column replaces the whole table`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `jobs_by_location_${suffix()}`;
      const spec: TableSpec = { name: t, columns: [{ name: "location", type: "string" }, { name: "postings", type: "integer" }] };
      await warehouse.replaceDataProduct(spec, [{ location: "Paris", postings: 3 }, { location: "Lyon", postings: 1 }]);
      await warehouse.replaceDataProduct(spec, [{ location: "Paris", postings: 4 }]);
      await warehouse.replaceDataProduct(spec, [{ location: "Paris", postings: 4 }]);
      assert.deepEqual(await warehouse.query(`SELECT location, postings FROM ${table("dataproducts", t)}`), [{ location: "Paris", postings: 4 }]);
    });
  });

  test(`${name} warehouse: writeErrors appends dead letters to lake.<entity>_error_records`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const entity = `invoices_${suffix()}`;
      const letters = [
        deadLetter({ stage: "validate", error: "amount is not a number", payload: { amount: "x" }, source: "/invoices", run_id: "r1", entity: entity, failed_at: "2026-01-15T10:00:00.000Z" }),
        deadLetter({ stage: "parse", error: "bad JSON", payload: "{", source: "/invoices", run_id: "r1", entity: entity, failed_at: "2026-01-15T10:00:01.000Z" }),
      ];
      await warehouse.writeErrors(entity, letters);
      const got = (await warehouse.query(`SELECT failed_at, stage, error, payload, source, run_id, entity FROM ${table("lake", `${entity}_error_records`)} ORDER BY failed_at, stage`)).map((r) => normalize(r, { failed_at: "timestamp" }));
      assert.equal(got.length, 2);
      assert.deepEqual(got[0], normalize({ ...letters[0] }, { failed_at: "timestamp" }));
      assert.equal(got[0].payload, '{"amount":"x"}');
      assert.equal(got[1].stage, "parse");
    });
  });

  test(`${name} warehouse: columns added later (by the spec or by the rows) are added, none is dropped`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `drivers_${suffix()}`;
      const v1: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, { name: "name", type: "string" }], primaryKey: ["id"] };
      await warehouse.mergeHub(v1, [{ id: 1, name: "a" }]);
      const v2: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, { name: "phone_e164", type: "string" }], primaryKey: ["id"] };
      await warehouse.mergeHub(v2, [{ id: 2, phone_e164: "+33612345678", extra_note: "hi" }]);
      const got = await warehouse.query(`SELECT id, name, phone_e164, extra_note FROM ${table("hub", t)} ORDER BY id`);
      assert.deepEqual(got, [
        { id: 1, name: "a", phone_e164: null, extra_note: null },
        { id: 2, name: null, phone_e164: "+33612345678", extra_note: "hi" },
      ]);
    });
  });

  test(`${name} warehouse: a value that does not fit its column fails the call and loads nothing`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `typed_${suffix()}`;
      const spec: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, { name: "n", type: "integer" }], primaryKey: ["id"] };
      await warehouse.mergeHub(spec, [{ id: 1, n: 1 }]);
      await assert.rejects(warehouse.mergeHub(spec, [{ id: 2, n: 2 }, { id: 3, n: "not a number" }]));
      assert.deepEqual(await warehouse.query(`SELECT id, n FROM ${table("hub", t)} ORDER BY id`), [{ id: 1, n: 1 }]);
    });
  });
}

/**
 * Issue 8's warehouse rules (append logs without duplicates, keyword columns, versions that only
 * move forward, children replaced with their parent), kept apart from `warehouseContract` so a
 * harness can give them a backend of their own (the BigQuery emulator wears out after some
 * hundreds of jobs in one process).
 */
export function warehouseVersionsContract(name: string, makeWarehouse: () => Promise<WarehouseHarness>): void {
  const countOf = async (wh: Warehouse, table: string) => Number((await wh.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  test(`${name} warehouse: a redelivered dead letter (same stage, error, payload) is not appended again; another one is`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const entity = `redelivered_${suffix()}`;
      const letter = (error: string, payload: unknown, runId: string) =>
        deadLetter({ stage: "validate", error: error, payload: payload, source: "/invoices", run_id: runId, entity: entity, failed_at: "2026-01-15T10:00:00.000Z" });
      await warehouse.writeErrors(entity, [letter("amount is not a number", { amount: "x" }, "r1")]);
      await warehouse.writeErrors(entity, [letter("amount is not a number", { amount: "x" }, "r2"), letter("amount is not a number", { amount: "y" }, "r2"), letter("other reason", { amount: "x" }, "r2")]);
      await warehouse.writeErrors(entity, [letter("amount is not a number", { amount: "x" }, "r3")]);
      const got = await warehouse.query(`SELECT error, payload, run_id FROM ${table("lake", `${entity}_error_records`)} ORDER BY run_id, error, payload`);
      assert.deepEqual(got, [
        { error: "amount is not a number", payload: '{"amount":"x"}', run_id: "r1" },
        { error: "amount is not a number", payload: '{"amount":"y"}', run_id: "r2" },
        { error: "other reason", payload: '{"amount":"x"}', run_id: "r2" },
      ]);
    });
  });

  test(`${name} warehouse: appendLake skips rows whose _payload_hash the table has; rows without one always append`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `lake_dedupe_${suffix()}`;
      const spec: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, { name: "_run_id", type: "string" }, { name: "_payload_hash", type: "string" }] };
      await warehouse.appendLake(spec, [{ id: 1, _run_id: "r1", _payload_hash: "h1" }, { id: 2, _run_id: "r1", _payload_hash: "h2" }]);
      await warehouse.appendLake(spec, [{ id: 1, _run_id: "r2", _payload_hash: "h1" }, { id: 3, _run_id: "r2", _payload_hash: "h3" }, { id: 4, _run_id: "r2" }]);
      await warehouse.appendLake(spec, [{ id: 2, _run_id: "r3", _payload_hash: "h2" }, { id: 4, _run_id: "r3" }]);
      const got = await warehouse.query(`SELECT id, _run_id, _payload_hash FROM ${table("lake", t)} ORDER BY id, _run_id`);
      assert.deepEqual(got, [
        { id: 1, _run_id: "r1", _payload_hash: "h1" },
        { id: 2, _run_id: "r1", _payload_hash: "h2" },
        { id: 3, _run_id: "r2", _payload_hash: "h3" },
        { id: 4, _run_id: "r2", _payload_hash: null },
        { id: 4, _run_id: "r3", _payload_hash: null },
      ]);
    });
  });

  test(`${name} warehouse: columns named like aliases and keywords (t, s, T, select, order, from, target, source) land and merge`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `keywords_${suffix()}`;
      const names = ["t", "s", "select", "order", "from", "target", "source"];
      const spec: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, ...names.map((n) => ({ name: n, type: "string" as const }))], primaryKey: ["id"], orderBy: "order" };
      const row = (id: number, v: string, order: string) => ({ id: id, t: `t${v}`, s: `s${v}`, select: `sel${v}`, order: order, from: `f${v}`, target: `tg${v}`, source: `src${v}` });
      await warehouse.appendLake({ name: t, columns: spec.columns }, [row(1, "1", "a")]);
      assert.equal(await countOf(warehouse, table("lake", t)), 1);
      const first = await warehouse.mergeHub(spec, [row(1, "1", "b"), row(2, "2", "b")]);
      assert.deepEqual([first.inserted, first.updated], [2, 0]);
      const second = await warehouse.mergeHub(spec, [row(1, "new", "c"), row(2, "old", "a")]);
      assert.deepEqual([second.updated, second.olderIgnored, second.accepted], [1, 1, [0]]);
      const got = await warehouse.query(`SELECT * FROM ${table("hub", t)} ORDER BY id`);
      assert.deepEqual(got, [row(1, "new", "c"), row(2, "2", "b")]);
      const upper = `upper_${suffix()}`;
      const upperSpec: TableSpec = { name: upper, columns: [{ name: "id", type: "integer" }, { name: "T", type: "number" }], primaryKey: ["id"] };
      await warehouse.mergeHub(upperSpec, [{ id: 1, T: 20.5 }]);
      await warehouse.mergeHub(upperSpec, [{ id: 1, T: 21.5 }, { id: 2, T: 3 }]);
      assert.deepEqual(await warehouse.query(`SELECT * FROM ${table("hub", upper)} ORDER BY id`), [{ id: 1, T: 21.5 }, { id: 2, T: 3 }]);
      const dp = `dp_keywords_${suffix()}`;
      await warehouse.replaceDataProduct({ name: dp, columns: [{ name: "t", type: "date" }, { name: "s", type: "integer" }], partitionColumn: "t" }, [{ t: "2026-01-15", s: 1 }]);
      await warehouse.replaceDataProduct({ name: dp, columns: [{ name: "t", type: "date" }, { name: "s", type: "integer" }], partitionColumn: "t" }, [{ t: "2026-01-15", s: 2 }]);
      assert.deepEqual((await warehouse.query(`SELECT * FROM ${table("dataproducts", dp)}`)).map((r) => normalize(r, { t: "date" })), [{ t: "2026-01-15", s: 2 }]);
    });
  });

  test(`${name} warehouse: with orderBy versions only move forward (issue 8: paid at 10:05 is kept over draft at 10:00), counted per row`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `invoices_${suffix()}`;
      const spec: TableSpec = {
        name: t,
        columns: [{ name: "invoice_id", type: "string" }, { name: "status", type: "string" }, { name: "updated_at", type: "timestamp" }, { name: "_payload_hash", type: "string" }],
        primaryKey: ["invoice_id"],
        orderBy: "updated_at",
      };
      const paid = { invoice_id: "N-1", status: "paid", updated_at: "2026-03-01T10:05:00Z", _payload_hash: "hp" };
      const draft = { invoice_id: "N-1", status: "draft", updated_at: "2026-03-01T10:00:00Z", _payload_hash: "hd" };
      const read = async () => (await warehouse.query(`SELECT invoice_id, status, updated_at FROM ${table("hub", t)} ORDER BY invoice_id`)).map((r) => normalize(r, { updated_at: "timestamp" }));
      assert.deepEqual(await warehouse.mergeHub(spec, [paid]), { inserted: 1, updated: 0, unchanged: 0, olderIgnored: 0, accepted: [0] });
      assert.deepEqual(await warehouse.mergeHub(spec, [draft]), { inserted: 0, updated: 0, unchanged: 0, olderIgnored: 1, accepted: [] });
      assert.deepEqual(await read(), [{ invoice_id: "N-1", status: "paid", updated_at: Date.parse(paid.updated_at) }]);
      assert.deepEqual(await warehouse.mergeHub(spec, [paid]), { inserted: 0, updated: 0, unchanged: 1, olderIgnored: 0, accepted: [] });
      // In one batch the newest wins whatever the order; an undated version never beats a dated one.
      const void1 = { invoice_id: "N-1", status: "void", updated_at: "2026-03-01T11:00:00Z", _payload_hash: "hv" };
      const undated = { invoice_id: "N-1", status: "undated", updated_at: null, _payload_hash: "hu" };
      const n2 = { invoice_id: "N-2", status: "undated", updated_at: null, _payload_hash: "h2" };
      assert.deepEqual(await warehouse.mergeHub(spec, [void1, draft, undated, n2]), { inserted: 1, updated: 1, unchanged: 0, olderIgnored: 2, accepted: [0, 3] });
      assert.deepEqual(await warehouse.mergeHub(spec, [undated]), { inserted: 0, updated: 0, unchanged: 0, olderIgnored: 1, accepted: [] });
      // A stored null is older than any value; the same order with another payload replaces (>=).
      const n2dated = { invoice_id: "N-2", status: "sent", updated_at: "2026-03-01T09:00:00Z", _payload_hash: "h2b" };
      const n2same = { invoice_id: "N-2", status: "sent again", updated_at: "2026-03-01T09:00:00Z", _payload_hash: "h2c" };
      assert.deepEqual(await warehouse.mergeHub(spec, [n2dated]), { inserted: 0, updated: 1, unchanged: 0, olderIgnored: 0, accepted: [0] });
      assert.deepEqual(await warehouse.mergeHub(spec, [n2same]), { inserted: 0, updated: 1, unchanged: 0, olderIgnored: 0, accepted: [0] });
      assert.deepEqual((await read()).map((r) => r.status), ["void", "sent again"]);
    });
  });

  test(`${name} warehouse: exploded children are replaced with their parent's winning version, never written for a losing one`, async () => {
    await withHarness(makeWarehouse, async ({ warehouse, table }) => {
      const t = `drivers_${suffix()}`;
      const spec: TableSpec = { name: t, columns: [{ name: "id", type: "integer" }, { name: "v", type: "integer" }], primaryKey: ["id"], orderBy: "v" };
      const childSpec: TableSpec = { name: `${t}_tags`, columns: [{ name: "_index", type: "integer" }, { name: "parent_id", type: "integer" }, { name: "tag", type: "string" }], primaryKey: ["parent_id", "_index"] };
      const tags = (id: number, list: string[]) => list.map((tag, i) => ({ parent_id: id, _index: i, tag: tag }));
      const batch = (parents: { id: number; v: number; tags: string[] }[]) =>
        warehouse.mergeHub(spec, parents.map((p) => ({ id: p.id, v: p.v })), [{ table: childSpec, parentKey: ["parent_id"], rows: parents.map((p) => tags(p.id, p.tags)) }]);
      await batch([{ id: 1, v: 1, tags: ["a", "b", "c"] }, { id: 2, v: 1, tags: ["x"] }]);
      await batch([{ id: 1, v: 2, tags: ["d"] }, { id: 2, v: 0, tags: ["old1", "old2"] }]);
      const readTags = async () => (await warehouse.query(`SELECT parent_id, _index, tag FROM ${table("hub", childSpec.name)} ORDER BY parent_id, _index`));
      assert.deepEqual(await readTags(), [{ parent_id: 1, _index: 0, tag: "d" }, { parent_id: 2, _index: 0, tag: "x" }]);
      await batch([{ id: 1, v: 3, tags: [] }]);
      assert.deepEqual(await readTags(), [{ parent_id: 2, _index: 0, tag: "x" }]);
    });
  });

}

// ---------------------------------------------------------------------------------------------
// Serving store

export function servingContract(name: string, makeStore: () => Promise<ServingHarness>): void {
  const config = (table: string): ServingConfig => ({
    table: table,
    rowKey: "{issuer}#{issued_at:yyyyMMdd}#{issued_at:reverse_ts}#{invoice_id}",
    families: { inv: { maxVersions: 1 }, raw: { maxVersions: 1 } },
    columns: {
      invoice_id: "inv:id:string",
      total: "inv:total:float64",
      lines: "inv:lines:int64",
      paid: "inv:paid:bool",
      issued_at: "inv:issued_at:string",
      payload: "raw:json:json",
    },
  });
  const invoice = (issuer: string, id: string, issuedAt: string, total: number) =>
    ({ issuer: issuer, invoice_id: id, issued_at: issuedAt, total: total, lines: 2, paid: false, payload: { id: id, items: [1, 2] } });
  const rowsOf = (cfg: ServingConfig, records: Row[]): ServingRow[] =>
    records.map((r) => {
      const built = buildServingRow(r, cfg);
      if (!built.ok) throw new Error(built.reason);
      return built.value;
    });

  test(`${name} serving: every encoding round-trips with its type`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const table = `types_${suffix()}`;
      await store.ensureTable({ table: table, rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      const cells: ServingRow["cells"] = {
        f: {
          i: { value: -42, encoding: "int64" },
          big: { value: "9007199254740993", encoding: "int64" },
          x: { value: -1.25e-7, encoding: "float64" },
          t: { value: true, encoding: "bool" },
          n: { value: false, encoding: "bool" },
          s: { value: "héllo ✓", encoding: "string" },
          j: { value: { a: [1, "b", null], c: { d: true } }, encoding: "json" },
        },
      };
      const result = await store.write(table, [{ key: "k1", cells: cells }]);
      assert.deepEqual(result, { written: 1, failed: [] });
      const got = await store.read(table);
      assert.deepEqual(got, [{ key: "k1", cells: cells }]);
      assert.equal(typeof got[0].cells.f.i.value, "number");
    });
  });

  test(`${name} serving: reverse_ts keys put the newest row first in a prefix scan, limit keeps the newest`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const cfg = config(`invoices_${suffix()}`);
      await store.ensureTable(cfg);
      const records = [
        invoice("acme", "i1", "2026-01-15T08:00:00Z", 10),
        invoice("acme", "i3", "2026-01-15T20:00:00Z", 30),
        invoice("acme", "i2", "2026-01-15T12:00:00Z", 20),
        invoice("acme", "i4", "2026-01-16T01:00:00Z", 40),
        invoice("beta", "b1", "2026-01-15T23:00:00Z", 99),
      ];
      const result = await store.write(cfg.table, rowsOf(cfg, records));
      assert.deepEqual(result, { written: 5, failed: [] });
      const day = await store.read(cfg.table, { prefix: "acme#20260115#" });
      assert.deepEqual(day.map((r) => r.cells.inv.id.value), ["i3", "i2", "i1"]);
      const newest = await store.read(cfg.table, { prefix: "acme#", limit: 2 });
      assert.deepEqual(newest.map((r) => r.cells.inv.id.value), ["i3", "i2"]);
      const all = await store.read(cfg.table);
      assert.deepEqual(all.map((r) => r.cells.inv.id.value), ["i3", "i2", "i1", "i4", "b1"]);
      assert.deepEqual(await store.read(cfg.table, { prefix: "gamma#" }), []);
      assert.deepEqual(newest[0].cells.raw.json.value, { id: "i3", items: [1, 2] });
      assert.equal(newest[0].cells.inv.total.value, 30);
      assert.equal(newest[0].cells.inv.lines.value, 2);
      assert.equal(newest[0].cells.inv.paid.value, false);
    });
  });

  test(`${name} serving: a prefix scan returns rows in key order and stops at the prefix`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const table = `order_${suffix()}`;
      await store.ensureTable({ table: table, rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      const keys = ["b#2", "a#1", "b#10", "b", "b#1", "c#1", "b$"];
      await store.write(table, keys.map((k) => ({ key: k, cells: { f: { v: { value: k, encoding: "string" as const } } } })));
      assert.deepEqual((await store.read(table, { prefix: "b#" })).map((r) => r.key), ["b#1", "b#10", "b#2"]);
      assert.deepEqual((await store.read(table, { prefix: "b" })).map((r) => r.key), ["b", "b#1", "b#10", "b#2", "b$"]);
      assert.deepEqual((await store.read(table, { prefix: "b", limit: 3 })).map((r) => r.key), ["b", "b#1", "b#10"]);
      assert.deepEqual((await store.read(table, { limit: 1 })).map((r) => r.key), ["a#1"]);
    });
  });

  test(`${name} serving: a rewrite overwrites the cells it sets (one version) and keeps the others`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const table = `over_${suffix()}`;
      await store.ensureTable({ table: table, rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      await store.write(table, [{ key: "k", cells: { f: { a: { value: 1, encoding: "int64" }, b: { value: "x", encoding: "string" } } } }]);
      await store.write(table, [{ key: "k", cells: { f: { a: { value: 2, encoding: "int64" } } } }]);
      await store.ensureTable({ table: table, rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      assert.deepEqual(await store.read(table), [{ key: "k", cells: { f: { a: { value: 2, encoding: "int64" }, b: { value: "x", encoding: "string" } } } }]);
    });
  });

  test(`${name} serving: with orderBy an older version written later does not shadow the newer one (issue 8: paid stays)`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const cfg: ServingConfig = { table: `versions_${suffix()}`, rowKey: "{invoice_id}", families: { inv: { maxVersions: 1 } }, columns: { status: "inv:status:string", note: "inv:note:string" } };
      await store.ensureTable(cfg);
      const build = (r: Row) => {
        const built = buildServingRow(r, cfg, "updated_at");
        if (!built.ok) throw new Error(built.reason);
        return built.value;
      };
      const paid = build({ invoice_id: "N-1", status: "paid", updated_at: "2026-03-01T10:05:00Z" });
      assert.equal(paid.versionMs, Date.parse("2026-03-01T10:05:00Z"));
      await store.write(cfg.table, [paid]);
      await store.write(cfg.table, [build({ invoice_id: "N-1", status: "draft", note: "older", updated_at: "2026-03-01T10:00:00Z" })]);
      await store.write(cfg.table, [build({ invoice_id: "N-1", status: "undated", updated_at: null })]);
      // Cells are versioned one by one (as Bigtable does): the older version's extra cell is kept.
      assert.deepEqual(await store.read(cfg.table), [{ key: "N-1", cells: { inv: { status: { value: "paid", encoding: "string" }, note: { value: "older", encoding: "string" } } } }]);
      await store.write(cfg.table, [build({ invoice_id: "N-1", status: "void", updated_at: "2026-03-01T11:00:00Z" })]);
      assert.equal((await store.read(cfg.table))[0].cells.inv.status.value, "void");
      const refused = buildServingRow({ invoice_id: "N-2", status: "x", updated_at: "yesterday" }, cfg, "updated_at");
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? "" : refused.reason, /orderBy field "updated_at"/);
    });
  });

  test(`${name} serving: bad rows come back in failed, the good ones are written`, async () => {
    await withHarness(makeStore, async ({ store }) => {
      const table = `bad_${suffix()}`;
      await store.ensureTable({ table: table, rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      const result = await store.write(table, [
        { key: "good", cells: { f: { a: { value: 1, encoding: "int64" } } } },
        { key: "nofamily", cells: { g: { a: { value: 1, encoding: "int64" } } } },
        { key: "notint", cells: { f: { a: { value: 1.5, encoding: "int64" } } } },
        { key: "", cells: { f: { a: { value: 1, encoding: "int64" } } } },
      ]);
      assert.equal(result.written, 1);
      assert.deepEqual(result.failed.map((f) => f.key).sort(), ["", "nofamily", "notint"]);
      assert.ok(result.failed.every((f) => f.reason.length > 0));
      assert.deepEqual((await store.read(table)).map((r) => r.key), ["good"]);
    });
  });
}
