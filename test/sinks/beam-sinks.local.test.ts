import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runAndCollect } from "../support/run-and-collect";
import { impulse, withName } from "apache-beam";
import type { Root, PCollection } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../../model/row";
import type { SinkTarget, TableSpec } from "../../model/backends";
import type { ServingConfig } from "../../model/source-config";
import { deadLetter } from "../../model/dead-letter";
import { commitLake, writeErrors, writeHub, writeLake, writeServing, writeWarehouse } from "../../sinks/beam-sinks";
import type { HubRecord, HubWriteResult, SinkReport } from "../../sinks/beam-sinks";
import { openLake, openServingStore, openWarehouse } from "../../sinks/open-backends";

requireForSerialization("fs", fs);

const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-beam-sinks-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));
const target: SinkTarget = { kind: "local", out: out };


const customers: TableSpec = {
  name: "customers",
  columns: [{ name: "customer_id", type: "integer" }, { name: "name", type: "string" }, { name: "signup", type: "date" }],
  primaryKey: ["customer_id"],
};

function records(n: number): Row[] {
  const rows: Row[] = [];
  for (let i = 1; i <= n; i++) rows.push({ customer_id: i, name: `c${i}`, signup: i % 2 ? "2026-01-15" : "2026-01-16", _ingested_at: `2026-01-1${5 + (i % 2)}T10:00:00Z` });
  return rows;
}

test("writeLake buffers, flushes inside and at the end of the bundle, and shards stay pending until commitLake", async () => {
  const runId = "run-beam-1";
  const rows = records(10);
  const reports = await runAndCollect<SinkReport>((root) =>
    root
      .apply(impulse())
      .flatMap(function* (): Generator<Row> { yield* rows; })
      .apply(writeLake(target, "raw", "customers", runId, { maxBufferRows: 4 })),
  );
  // 10 rows, flushed at 4, 8 and at the end (2), each flush split by dt -> 6 shards.
  assert.equal(reports.length, 6);
  assert.equal(reports.reduce((s, r) => s + r.written, 0), 10);
  assert.ok(reports.every((r) => r.sink === "lake" && r.location.startsWith("raw/customers/dt=2026-01-1")));
  assert.equal(new Set(reports.map((r) => r.location)).size, 6);
  const lake = await openLake(target);
  assert.deepEqual(await lake.list("raw/customers/"), []);
  await commitLake(target, runId);
  const listed = await lake.list("raw/customers/");
  assert.deepEqual(listed, reports.map((r) => r.location).sort());
  const landed = listed.flatMap((p) => fs.readFileSync(path.join(out, "lake", p), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Row));
  assert.deepEqual(landed.map((r) => r.customer_id).sort((a, b) => Number(a) - Number(b)), rows.map((r) => r.customer_id));
  const dt15 = listed.filter((p) => p.includes("dt=2026-01-15/")).flatMap((p) => fs.readFileSync(path.join(out, "lake", p), "utf8").trim().split("\n"));
  assert.equal(dt15.length, 5);
});

test("writeHub merges into the hub (twice = once), writeWarehouse, replaces data-product partitions, appends dead letters", async () => {
  const rows = records(7);
  const product: TableSpec = { name: "signups_by_day", columns: [{ name: "day", type: "date" }, { name: "signups", type: "integer" }], partitionColumn: "day" };
  const errors = [deadLetter({ stage: "validate", error: "name is required", payload: { customer_id: 99 }, source: "/customers", run_id: "r", entity: "customers" })];
  const run = () =>
    runAndCollect<SinkReport>((root) => {
      const input = root.apply(impulse()).flatMap(function* (): Generator<Row> { yield* rows; });
      input
        .map(withName("ToHubRecord", (r: Row): HubRecord => ({ row: r, children: {} })))
        .apply(writeHub(target, customers, [], { maxBufferRows: 3 }));
      root.apply(withName("ImpulseErrors", impulse())).flatMap(withName("EmitErrors", function* () { yield* errors; })).apply(writeErrors(target, "customers"));
      return input
        .map(withName("CountSignup", (r: Row): Row => ({ day: r.signup, signups: 1 })))
        .apply(writeWarehouse(target, "dataproduct", product));
    });
  const reports: SinkReport[] = await run();
  assert.deepEqual(reports.map((r) => [r.location, r.written]).sort(), [["dataproducts.signups_by_day", 3], ["dataproducts.signups_by_day", 4]]);
  await run();
  const wh = await openWarehouse(target);
  try {
    const hub = await wh.query("SELECT customer_id, name, signup FROM hub.customers ORDER BY customer_id");
    assert.deepEqual(hub, rows.map((r) => ({ customer_id: r.customer_id, name: r.name, signup: r.signup })));
    const product = await wh.query("SELECT day, count(*) AS n, sum(signups) AS s FROM dataproducts.signups_by_day GROUP BY day ORDER BY day");
    assert.deepEqual(product, [{ day: "2026-01-15", n: 4, s: 4 }, { day: "2026-01-16", n: 3, s: 3 }]);
    // The second run's identical dead letter (same stage, error, payload) is not appended again (issue 8).
    const dead = await wh.query("SELECT stage, error, payload FROM lake.customers_error_records");
    assert.deepEqual(dead, [{ stage: "validate", error: "name is required", payload: '{"customer_id":99}' }]);
  } finally {
    await wh.close();
  }
});

test("writeHub emits the accepted records batch by batch, then its counts last; the same when the group spills to disk", async () => {
  const rows = records(7);
  const mergeInto = (dir: string) =>
    runAndCollect<HubWriteResult>((root) =>
      root
        .apply(impulse())
        .flatMap(function* (): Generator<Row> { yield* rows; })
        .map(withName("ToHubRecord", (r: Row): HubRecord => ({ row: r, children: {} })))
        .apply(writeHub({ kind: "local", out: dir }, customers, [], { maxBufferRows: 3 })));
  const expected: HubWriteResult[] = [
    ...rows.map((r) => ({ accepted: { row: r, children: {} } })),
    { merged: { inserted: 7, updated: 0, unchanged: 0, olderIgnored: 0 } },
  ];
  assert.deepEqual(await mergeInto(fs.mkdtempSync(path.join(out, "hub-memory-"))), expected);
  // Spilling past 2 held elements: the one-key group is read lazily from disk, 3 records at a time.
  const spillDir = fs.mkdtempSync(path.join(out, "spill-"));
  process.env.API2LAKE_SPILL_ROWS = "2";
  process.env.API2LAKE_SPILL_DIR = spillDir;
  try {
    assert.deepEqual(await mergeInto(fs.mkdtempSync(path.join(out, "hub-spilled-"))), expected);
  } finally {
    delete process.env.API2LAKE_SPILL_ROWS;
    delete process.env.API2LAKE_SPILL_DIR;
  }
  assert.deepEqual(fs.readdirSync(spillDir), []);
});

test("writeServing writes rows keyed by the template and reports the rows it cannot key", async () => {
  const config: ServingConfig = {
    table: "invoices",
    rowKey: "{issuer}#{issued_at:reverse_ts}",
    families: { f: { maxVersions: 1 } },
    columns: { total: "f:total:float64", invoice_id: "f:id:string" },
  };
  const invoices: Row[] = [
    { issuer: "acme", invoice_id: "a1", issued_at: "2026-01-15T10:00:00Z", total: 10 },
    { issuer: "acme", invoice_id: "a2", issued_at: "2026-01-16T10:00:00Z", total: 20 },
    { issuer: "acme", invoice_id: "bad-date", issued_at: "yesterday", total: 1 },
    { invoice_id: "no-issuer", issued_at: "2026-01-16T10:00:00Z", total: 1 },
  ];
  const reports = await runAndCollect<SinkReport>((root) =>
    root.apply(impulse()).flatMap(function* (): Generator<Row> { yield* invoices; }).apply(writeServing(target, config)),
  );
  assert.equal(reports.length, 1);
  assert.equal(reports[0].written, 2);
  assert.deepEqual(reports[0].failed.map((f) => f.row.invoice_id).sort(), ["bad-date", "no-issuer"]);
  assert.ok(reports[0].failed.every((f) => /issued_at|issuer/.test(f.reason)));
  const store = await openServingStore(target);
  try {
    const read = await store.read("invoices", { prefix: "acme#" });
    assert.deepEqual(read.map((r) => r.cells.f.id.value), ["a2", "a1"]);
    assert.equal(read[0].cells.f.total.value, 20);
  } finally {
    await store.close();
  }
});
