import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import type { InboundMessage, MessageSubscription } from "../../sources/messages";
import { startStream } from "../../pipeline/stream";
import type { RunManifest } from "../../pipeline/manifest";
import { openLake, openServingStore, openWarehouse } from "../../sinks/open-backends";
import type { SinkTarget } from "../../model/backends";

// Issue 8 through the whole entity branch on the local sinks: the older `draft` delivered after
// `paid` changes nothing (hub, its exploded lines, the processed layer, the serving store), a
// redelivery lands nothing twice (lake.<entity>, error records), and the manifest counts it.

const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-versions-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));
const target: SinkTarget = { kind: "local", out: out };

const source = parseSourceConfig(`
name: billing
baseUrl: http://127.0.0.1:1
entities:
  invoices:
    path: /invoices
    primaryKey: [invoice_id]
    orderBy: updated_at
    explode: [lines]
    fields:
      invoice_id: { type: string, required: true }
      status: { type: string }
      updated_at: { type: timestamp }
      total: { type: number }
    serving:
      table: invoices_by_id
      rowKey: "{invoice_id}"
      families: { inv: { maxVersions: 1 } }
      columns: { status: "inv:status:string" }
`, "billing.yaml");

const paid = { invoice_id: "N-1", status: "paid", updated_at: "2026-03-01T10:05:00Z", total: 10, lines: [{ sku: "a" }, { sku: "b" }, { sku: "c" }] };
const draft = { invoice_id: "N-1", status: "draft", updated_at: "2026-03-01T10:00:00Z", total: 10, lines: [{ sku: "z" }] };
const bad = { invoice_id: "N-2", status: "sent", total: "not a number" };

/** Hands out the given batches one pull at a time, then nothing. */
class Batches implements MessageSubscription {
  private next = 0;
  constructor(private readonly batches: readonly (readonly object[])[]) {}
  async pull(): Promise<{ messages: InboundMessage[]; ackIds: string[] }> {
    const batch = this.batches[this.next] ?? [];
    const n = this.next++;
    const messages = batch.map((r, i) => ({ id: `m${n}-${i}`, data: JSON.stringify(r), publishTime: "2026-03-01T12:00:00.000Z", attributes: {} }));
    return { messages: messages, ackIds: messages.map((m) => m.id) };
  }
  async ack(): Promise<void> {}
  async nack(): Promise<void> {}
}

test("an older version delivered later (and a redelivery) leaves the hub, children, processed layer and serving store at the newest", async () => {
  const manifests: RunManifest[] = [];
  const stream = startStream(new Batches([[paid, bad], [draft], [paid, bad]]), {
    source: source, entity: "invoices", target: target, options: { out: out, runner: "direct" } as never,
    batchSize: 10, maxBatches: 3, onBatch: (m) => manifests.push(m),
  });
  const done = await stream.done;
  assert.equal(done.failedBatches, 0);
  assert.deepEqual(manifests.map((m) => m.status), ["succeeded", "succeeded", "succeeded"]);
  const counts = manifests.map((m) => {
    const c = m.entities.invoices;
    return [c.kept, c.hub_inserted, c.hub_updated, c.hub_unchanged, c.hub_older_ignored];
  });
  assert.deepEqual(counts, [[1, 1, 0, 0, 0], [1, 0, 0, 0, 1], [1, 0, 0, 1, 0]]);
  for (const m of manifests) assert.deepEqual(m.checks.filter((c) => !c.ok), []);
  assert.ok(manifests[1].checks.some((c) => c.rule === "kept (1) = hub inserted (0) + updated (0) + unchanged (0) + older ignored (1)"));

  const wh = await openWarehouse(target);
  try {
    assert.deepEqual(await wh.query("SELECT invoice_id, status, updated_at FROM hub.invoices"), [{ invoice_id: "N-1", status: "paid", updated_at: "2026-03-01T10:05:00.000Z" }]);
    assert.deepEqual(await wh.query("SELECT parent_invoice_id, _index, sku FROM hub.invoices_lines ORDER BY _index"), [
      { parent_invoice_id: "N-1", _index: 0, sku: "a" },
      { parent_invoice_id: "N-1", _index: 1, sku: "b" },
      { parent_invoice_id: "N-1", _index: 2, sku: "c" },
    ]);
    // paid, bad and draft once each, although paid and bad were delivered twice.
    assert.deepEqual(await wh.query("SELECT status, count(*) AS n FROM lake.invoices GROUP BY status ORDER BY status"), [
      { status: "draft", n: 1 }, { status: "paid", n: 1 }, { status: "sent", n: 1 },
    ]);
    assert.deepEqual(await wh.query("SELECT stage, count(*) AS n FROM lake.invoices_error_records GROUP BY stage"), [{ stage: "validate", n: 1 }]);
  } finally {
    await wh.close();
  }

  const lake = await openLake(target);
  const processed = await lake.list("processed/invoices/");
  const statuses = processed.flatMap((p) => fs.readFileSync(path.join(out, "lake", p), "utf8").trim().split("\n").map((l) => JSON.parse(l).status as string));
  assert.deepEqual(statuses, ["paid"]);
  const processedLines = await lake.list("processed/invoices_lines/");
  assert.equal(processedLines.flatMap((p) => fs.readFileSync(path.join(out, "lake", p), "utf8").trim().split("\n")).length, 3);

  const store = await openServingStore(target);
  try {
    assert.deepEqual(await store.read("invoices_by_id"), [{ key: "N-1", cells: { inv: { status: { value: "paid", encoding: "string" } } } }]);
  } finally {
    await store.close();
  }
});
