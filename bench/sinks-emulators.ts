import { Storage } from "@google-cloud/storage";
import { BigQuery } from "@google-cloud/bigquery";
import { Bigtable } from "@google-cloud/bigtable";
import { PubSub } from "@google-cloud/pubsub";
import { startEmulators } from "../test/emulators/emulators";
import { GcsLake } from "../sinks/lake-gcs";
import { BigQueryWarehouse } from "../sinks/warehouse-bigquery";
import { BigtableServingStore } from "../sinks/serving-bigtable";
import { closePubSub, publishRecords } from "../sources/pubsub";
import type { Row } from "../model/row";
import type { ServingRow, TableSpec } from "../model/backends";

/**
 * Rows/s into each emulator through our sink vs a plain script using the same client and batch
 * size, in one process: three alternating rounds (plain, ours, plain, ours, ...) after a warm-up,
 * medians compared. The plain GCS path writes the shards at their final names (no pending
 * copy); ours also commits (copy + delete per shard).
 *
 *   node dist/bench/sinks-emulators.js [rows=20000] [lakeShardRows=5000]
 */

const rowsWanted = Number(process.argv[2] ?? 20_000);
const shardRows = Number(process.argv[3] ?? 5_000);

const record = (i: number): Row => ({
  sale_id: i,
  customer: `customer-${i % 997}`,
  amount: Math.round(i * 37.5) / 100,
  day: `2026-01-${String(1 + (i % 28)).padStart(2, "0")}`,
  note: "x".repeat(40),
});

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Line { name: string; rows: number; batch: number; plain: number; ours: number }

async function main(): Promise<void> {
  const emu = await startEmulators(["pubsub", "bigtable", "gcs", "bigquery"]);
  const rows = Array.from({ length: rowsWanted }, (_, i) => record(i));
  const lines: Line[] = [];
  /** Three alternating rounds (plain, ours, ...); the medians are compared. */
  const measure = async (name: string, batch: number, plain: (round: number) => Promise<void>, ours: (round: number) => Promise<void>, warm?: () => Promise<void>) => {
    if (warm) await warm();
    const p: number[] = [];
    const o: number[] = [];
    for (let round = 0; round < 3; round++) {
      // (a loop variable captured by a closure is lost by the closure transform: copy it)
      const even = round * 2;
      const odd = round * 2 + 1;
      p.push(await time(() => plain(even)));
      o.push(await time(() => ours(odd)));
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[1];
    lines.push({ name: name, rows: rows.length, batch: batch, plain: median(p), ours: median(o) });
  };
  try {
    // Cloud Storage: shards of 5 000 rows; ours = pending upload + commit copy + delete.
    const storage = new Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT });
    await storage.createBucket("bench-lake");
    const lake = new GcsLake({ bucket: "bench-lake", projectId: emu.project });
    const shards: Row[][] = [];
    for (let i = 0; i < rows.length; i += shardRows) shards.push(rows.slice(i, i + shardRows));
    await measure("GCS lake shards (writeShard+commit)", shardRows, async (round) => {
      for (let s = 0; s < shards.length; s++) {
        const body = Buffer.from(shards[s].map((r) => JSON.stringify(r) + "\n").join(""), "utf8");
        await storage.bucket("bench-lake").file(`plain/${round}/s${s}.ndjson`).save(body, { resumable: body.length > 5 * 1024 * 1024, contentType: "application/x-ndjson", validation: "crc32c" });
      }
    }, async (round) => {
      for (let s = 0; s < shards.length; s++) await lake.writeShard({ layer: "raw", entity: "sales", dt: "2026-01-15", runId: `r${round}`, shard: `s${s}`, rows: shards[s] });
      await lake.commit(`r${round}`);
    });

    // BigQuery: one load job per 5 000 rows, uploaded NDJSON.
    const wh = new BigQueryWarehouse({ projectId: emu.project, datasetPrefix: "bench_" });
    const spec: TableSpec = { name: "sales", columns: [{ name: "sale_id", type: "integer" }, { name: "customer", type: "string" }, { name: "amount", type: "number" }, { name: "day", type: "date" }, { name: "note", type: "string" }] };
    await wh.appendLake(spec, rows.slice(0, 1));
    const bq = new BigQuery({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_BIGQUERY_ENDPOINT, autoRetry: false, authClient: { getRequestHeaders: async () => new Headers({ Authorization: "Bearer bench" }) } as never });
    const fields = [{ name: "sale_id", type: "INT64" }, { name: "customer", type: "STRING" }, { name: "amount", type: "FLOAT64" }, { name: "day", type: "DATE" }, { name: "note", type: "STRING" }];
    await bq.dataset("bench_lake").createTable("plain", { schema: { fields: fields } });
    const loadBatch = 5_000;
    await measure("BigQuery appendLake (load jobs)", loadBatch, async () => {
      for (let i = 0; i < rows.length; i += loadBatch) {
        const body = Buffer.from(rows.slice(i, i + loadBatch).map((r) => JSON.stringify(r) + "\n").join(""), "utf8");
        const job = await new Promise<{ promise(): Promise<unknown> }>((resolve, reject) => {
          const ws = bq.dataset("bench_lake").table("plain").createWriteStream({ sourceFormat: "NEWLINE_DELIMITED_JSON", schema: { fields: fields } } as never);
          ws.once("job", resolve);
          ws.once("error", reject);
          ws.end(body);
        });
        await job.promise();
      }
    }, async () => {
      for (let i = 0; i < rows.length; i += loadBatch) await wh.appendLake(spec, rows.slice(i, i + loadBatch));
    });

    // Bigtable: mutateRows of 1 000 rows, 3 typed cells each.
    const store = new BigtableServingStore({ projectId: emu.project, instanceId: "bench", batchRows: 1_000 });
    await store.ensureTable({ table: "sales", rowKey: "{customer}#{sale_id}", families: { f: { maxVersions: 1 } }, columns: { amount: "f:amount:float64", sale_id: "f:id:int64", note: "f:note:string" } });
    const servingRows: ServingRow[] = rows.map((r) => ({
      key: `${r.customer}#${r.sale_id}`,
      cells: { f: { amount: { value: r.amount as number, encoding: "float64" }, id: { value: r.sale_id as number, encoding: "int64" }, note: { value: r.note as string, encoding: "string" } } },
    }));
    const bt = new Bigtable({ projectId: emu.project, metricsEnabled: false } as never);
    const plainTable = bt.instance("bench").table("sales");
    await measure("Bigtable write (mutateRows)", 1_000, async () => {
      for (let i = 0; i < servingRows.length; i += 1_000) {
        const entries = servingRows.slice(i, i + 1_000).map((r) => {
          const amount = Buffer.alloc(8);
          amount.writeDoubleBE(r.cells.f.amount.value as number);
          const id = Buffer.alloc(8);
          id.writeBigInt64BE(BigInt(r.cells.f.id.value as number));
          return { key: r.key, method: "insert", data: { f: { amount: amount, id: id, note: Buffer.from(r.cells.f.note.value as string) } } };
        });
        await plainTable.mutate(entries as never);
      }
    }, async () => {
      const result = await store.write("sales", servingRows);
      if (result.failed.length) throw new Error(`bench: ${result.failed.length} rows failed`);
    });
    await store.close();
    await bt.close();

    // Pub/Sub: publish in batches of 500.
    const ps = new PubSub({ projectId: emu.project });
    await ps.createTopic("bench");
    const topic = ps.topic("bench", { batching: { maxMessages: 500, maxMilliseconds: 10, maxBytes: 9 * 1024 * 1024 } });
    await measure("Pub/Sub publishRecords", 500, async () => {
      for (let i = 0; i < rows.length; i += 500) {
        await Promise.all(rows.slice(i, i + 500).map((r) => topic.publishMessage({ data: Buffer.from(JSON.stringify(r)), attributes: { id: String(r.sale_id), event_time: String(r.day) } })));
      }
    }, async () => {
      await publishRecords(`projects/${emu.project}/topics/bench`, rows, { idField: "sale_id", eventTimeField: "day", batchSize: 500 });
    }, async () => {
      // Both clients connected before timing.
      await topic.publishMessage({ data: Buffer.from("{}"), attributes: { id: "warm" } });
      await publishRecords(`projects/${emu.project}/topics/bench`, [{ sale_id: -1 }], { idField: "sale_id" });
    });
    await ps.close();
    await closePubSub();
  } finally {
    await emu.stop();
  }
  console.log(`rows per sink: ${rowsWanted}`);
  console.log("sink                                   batch   plain rows/s   ours rows/s   ours/plain");
  for (const l of lines) {
    console.log(`${l.name.padEnd(38)} ${String(l.batch).padStart(6)} ${String(Math.round(l.rows / l.plain)).padStart(14)} ${String(Math.round(l.rows / l.ours)).padStart(13)} ${(l.plain / l.ours).toFixed(2).padStart(12)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
