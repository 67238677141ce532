import { after, before, beforeEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "crypto";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";
import { BigQueryWarehouse } from "../../sinks/warehouse-bigquery";
import type { BigQueryWarehouseOptions } from "../../sinks/warehouse-bigquery";
import type { TableSpec } from "../../model/backends";
import { warehouseContract } from "../sinks/contract";

let emu: Emulators;
before(async () => { emu = await startEmulators(["gcs", "bigquery"]); });
after(async () => { await emu?.stop(); });

const PREFIX = "t_";
const newWarehouse = (options: Partial<BigQueryWarehouseOptions> = {}) =>
  new BigQueryWarehouse({ projectId: emu.project, datasetPrefix: PREFIX, ...options });

warehouseContract("bigquery (emulator)", async () => {
  const warehouse = newWarehouse();
  return { warehouse: warehouse, table: (schema: string, name: string) => `${PREFIX}${schema}.${name}`, close: () => warehouse.close() };
});

const suffix = () => crypto.randomBytes(4).toString("hex");
const sales = (name: string): TableSpec => ({
  name: name,
  columns: [{ name: "sale_id", type: "integer" }, { name: "amount", type: "number" }, { name: "day", type: "date" }, { name: "_run_id", type: "string" }],
  primaryKey: ["sale_id"],
  partitionColumn: "day",
});

describe("BigQueryWarehouse specifics", () => {
  // The emulator's WebAssembly GoogleSQL memory only grows and panics after a few hundred jobs:
  // each test here starts on a restarted process (same port, same data file).
  beforeEach(async () => {
    await emu.stop("bigquery");
    await emu.start("bigquery");
  });

  it("hub MERGE is idempotent: loading the same rows twice leaves an identical table", async () => {
    const wh = newWarehouse();
    const t = `sales_${suffix()}`;
    const rows = Array.from({ length: 50 }, (_, i) => ({ sale_id: i, amount: i * 1.5, day: `2026-01-${String(10 + (i % 5)).padStart(2, "0")}`, _run_id: "r1" }));
    await wh.mergeHub(sales(t), rows);
    const once = await wh.query(`SELECT * FROM ${PREFIX}hub.${t} ORDER BY sale_id`);
    await wh.mergeHub(sales(t), rows);
    assert.deepEqual(await wh.query(`SELECT * FROM ${PREFIX}hub.${t} ORDER BY sale_id`), once);
    assert.equal(once.length, 50);
  });

  it("appendLake: a row BigQuery rejects lands in lake.<entity>_error_records with the reason; the others are loaded", async () => {
    const wh = newWarehouse();
    const t = `sales_${suffix()}`;
    await wh.appendLake(sales(t), [
      { sale_id: 1, amount: 1, day: "2026-01-15", _run_id: "r9", _source: "/sales" },
      { sale_id: "not-an-integer", amount: 2, day: "2026-01-15", _run_id: "r9", _source: "/sales" },
      { sale_id: 3, amount: 3, day: "2026-01-15", _run_id: "r9", _source: "/sales" },
    ]);
    assert.deepEqual((await wh.query(`SELECT sale_id FROM ${PREFIX}lake.${t} ORDER BY sale_id`)).map((r) => r.sale_id), [1, 3]);
    const errors = await wh.query(`SELECT stage, error, payload, run_id, entity, source FROM ${PREFIX}lake.${t}_error_records`);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].stage, "sink");
    assert.equal(errors[0].run_id, "r9");
    assert.equal(errors[0].entity, t);
    assert.equal(errors[0].source, "/sales");
    assert.match(String(errors[0].error), /BigQuery rejected the row/);
    assert.equal(JSON.parse(String(errors[0].payload)).sale_id, "not-an-integer");
  });

  it("streaming appends go through insertAll in batches within the limits and report rejected rows", async () => {
    const wh = newWarehouse({ appendMode: "stream", insertBatchRows: 100 });
    const t = `events_${suffix()}`;
    const rows: Record<string, unknown>[] = Array.from({ length: 1234 }, (_, i) => ({ sale_id: i, amount: i, day: "2026-01-16" }));
    rows[7] = { sale_id: "x", amount: 1, day: "2026-01-16" };
    const result = await wh.appendRows(sales(t), rows);
    assert.equal(result.written, 1233);
    assert.equal(result.rejected.length, 1);
    assert.match(result.rejected[0].error, /BigQuery rejected the row/);
    assert.equal(Number((await wh.query(`SELECT COUNT(*) AS n FROM ${PREFIX}lake.${t}`))[0].n), 1233);
  });

  it("loads through gs:// when a staging bucket is set", async () => {
    const { Storage } = await import("@google-cloud/storage");
    const bucket = `stage-${suffix()}`;
    await new Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).createBucket(bucket);
    const wh = newWarehouse({ stagingBucket: bucket });
    const t = `gsload_${suffix()}`;
    await wh.appendLake(sales(t), [{ sale_id: 1, amount: 2.5, day: "2026-01-15" }]);
    assert.deepEqual(await wh.query(`SELECT sale_id, amount FROM ${PREFIX}lake.${t}`), [{ sale_id: 1, amount: 2.5 }]);
  });

  it("creates day-partitioned tables on the partition column", async () => {
    const wh = newWarehouse();
    const t = `parts_${suffix()}`;
    await wh.replaceDataProduct(sales(t), [{ sale_id: 1, amount: 1, day: "2026-01-15" }]);
    const { BigQuery } = await import("@google-cloud/bigquery");
    const meta = (await new BigQuery({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_BIGQUERY_ENDPOINT }).dataset(`${PREFIX}dataproducts`).table(t).getMetadata())[0];
    assert.equal(meta.timePartitioning?.type, "DAY");
    assert.equal(meta.timePartitioning?.field, "day");
  });

  it("fault: the emulator stopping mid-write rejects with a clear message; a retry after restart loses and duplicates nothing", async () => {
    const t = `fault_${suffix()}`;
    const spec = sales(t);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ sale_id: i, amount: i / 4, day: "2026-01-17", _run_id: "rf" }));
    const wh = newWarehouse({ timeoutMs: 3_000, maxAttempts: 2 });
    await wh.mergeHub(spec, rows.slice(0, 10)); // the table exists before the fault
    const started = Date.now();
    const writing = wh.mergeHub(spec, rows);
    setTimeout(() => void emu.stop("bigquery"), 150);
    await assert.rejects(writing, (e: Error) => /failed after \d attempt|not done after|no answer within/.test(e.message));
    assert.ok(Date.now() - started < 40_000, `took ${Date.now() - started} ms`);
    await emu.start("bigquery"); // same port, same database file
    const again = newWarehouse();
    await again.mergeHub(spec, rows);
    const got = await again.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT sale_id) AS k, SUM(amount) AS s FROM ${PREFIX}hub.${t}`);
    assert.deepEqual(got, [{ n: 20_000, k: 20_000, s: rows.reduce((a, r) => a + r.amount, 0) }]);
  });
});
