import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Row } from "../../model/row";
import type { SinkTarget, TableSpec } from "../../model/backends";
import { openLake, openServingStore, openWarehouse, localPaths } from "../../sinks/open-backends";

// What only the embedded engines promise: files on disk, one DuckDB instance per file, persistence.
const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-local-engines-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));
const target: SinkTarget = { kind: "local", out: out };

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
}

test("a run that never commits leaves its shards only under lake/_pending, where no listing sees them", async () => {
  const lake = await openLake(target);
  await lake.writeShard({ layer: "raw", entity: "crashy", dt: "2026-01-15", runId: "crashed", shard: "s0", rows: [{ a: 1 }] });
  assert.deepEqual(await lake.list(""), []);
  assert.deepEqual(filesUnder(path.join(out, "lake", "raw")), []);
  assert.deepEqual(filesUnder(path.join(out, "lake", "_pending")), [path.join("crashed", "raw", "crashy", "dt=2026-01-15", "crashed-s0.ndjson")]);
  await lake.commit("crashed");
  assert.deepEqual(filesUnder(path.join(out, "lake", "_pending")), []);
  assert.deepEqual(filesUnder(path.join(out, "lake", "raw")), [path.join("crashy", "dt=2026-01-15", "crashed-s0.ndjson")]);
});

test("text files land beside the lake, atomically (no temporaries left), and may not escape <out>", async () => {
  const lake = await openLake(target);
  await lake.writeText("runs/r1.json", "{}");
  await lake.writeText("state/demo/watermark.json", "x");
  assert.equal(fs.readFileSync(path.join(out, "runs", "r1.json"), "utf8"), "{}");
  assert.deepEqual(fs.readdirSync(path.join(out, "runs")), ["r1.json"]);
  await assert.rejects(lake.writeText("../escape.json", "x"), /inside/);
  await assert.rejects(lake.writeText("/etc/escape.json", "x"), /inside|relative/);
});

test("DuckDB: handles on one file share one instance; data persists in <out>/warehouse.duckdb after the last close", async () => {
  const spec: TableSpec = { name: "people", columns: [{ name: "id", type: "integer" }, { name: "seen_at", type: "timestamp" }], primaryKey: ["id"] };
  const a = await openWarehouse(target);
  const b = await openWarehouse(target);
  await a.mergeHub(spec, [{ id: 1, seen_at: "2026-01-15T12:00:00+02:00" }, { id: 2, seen_at: 1767225600000 }, { id: 3, seen_at: "2026-01-15 08:00:00" }]);
  await a.close();
  await a.close();
  await assert.rejects(a.query("SELECT 1"), /closed/);
  assert.deepEqual(await b.query("SELECT id, seen_at FROM hub.people ORDER BY id"), [
    { id: 1, seen_at: "2026-01-15T10:00:00.000Z" },
    { id: 2, seen_at: "2026-01-01T00:00:00.000Z" },
    { id: 3, seen_at: "2026-01-15T08:00:00.000Z" },
  ]);
  await b.close();
  assert.ok(fs.existsSync(localPaths(out).warehouse));
  const c = await openWarehouse(target);
  try {
    assert.deepEqual(await c.query("SELECT count(*) AS n FROM hub.people"), [{ n: 3 }]);
    const schemas = await c.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('lake', 'hub', 'dataproducts') ORDER BY schema_name");
    assert.deepEqual(schemas.map((r) => r.schema_name), ["dataproducts", "hub", "lake"]);
  } finally {
    await c.close();
  }
});

test("DuckDB: calls on one file run one at a time, even when issued together", async () => {
  const spec: TableSpec = { name: "counters", columns: [{ name: "k", type: "string" }, { name: "v", type: "integer" }], primaryKey: ["k"] };
  const wh = await openWarehouse(target);
  const other = await openWarehouse(target);
  try {
    await Promise.all([
      ...[1, 2, 3, 4, 5].map((v) => wh.mergeHub(spec, [{ k: "x", v: v }])),
      other.appendLake({ name: "counters", columns: spec.columns }, [{ k: "x", v: 0 }]),
    ]);
    assert.deepEqual(await wh.query("SELECT k, v FROM hub.counters"), [{ k: "x", v: 5 }]);
    assert.deepEqual(await other.query("SELECT count(*) AS n FROM lake.counters"), [{ n: 1 }]);
  } finally {
    await wh.close();
    await other.close();
  }
});

test("DuckDB: a bulk merge of 60 000 rows (several staging writes) lands every row once", async () => {
  const spec: TableSpec = { name: "bulk", columns: [{ name: "id", type: "integer" }, { name: "name", type: "string" }, { name: "x", type: "number" }, { name: "doc", type: "json" }], primaryKey: ["id"] };
  const rows: Row[] = [];
  for (let i = 0; i < 60_000; i++) rows.push({ id: i, name: `name-${i}-${"y".repeat(60)}`, x: i / 3, doc: i % 1000 === 0 ? { i: i, s: "it's \"quoted\"\n" } : null });
  const wh = await openWarehouse(target);
  try {
    await wh.mergeHub(spec, rows);
    await wh.mergeHub(spec, rows.slice(0, 10));
    assert.deepEqual(await wh.query("SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s, count(doc) AS docs FROM hub.bulk"), [{ n: 60_000, d: 60_000, s: (59_999 * 60_000) / 2, docs: 60 }]);
    assert.deepEqual(await wh.query("SELECT doc FROM hub.bulk WHERE id = 1000"), [{ doc: { i: 1000, s: "it's \"quoted\"\n" } }]);
  } finally {
    await wh.close();
  }
});

test("embedded serving store: tables live in <out>/serving, survive a reopen, and an unknown table is a clear error", async () => {
  const store = await openServingStore(target);
  await store.ensureTable({ table: "kv", rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
  await store.write("kv", [{ key: "a", cells: { f: { v: { value: 1, encoding: "int64" } } } }]);
  await store.close();
  assert.ok(fs.existsSync(path.join(out, "serving", "kv")));
  assert.ok(fs.existsSync(path.join(out, "serving", "kv.table.json")));
  const again = await openServingStore(target);
  try {
    assert.deepEqual(await again.read("kv"), [{ key: "a", cells: { f: { v: { value: 1, encoding: "int64" } } } }]);
    await assert.rejects(again.read("missing"), /serving table "missing" does not exist in .*serving \(tables there: kv\)/);
  } finally {
    await again.close();
  }
});
