import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PubSub } from "@google-cloud/pubsub";
import { startEmulators, type Emulators } from "../emulators/emulators";
import { startDemoApi, invoice, type DemoApi } from "../../sources/demo-api/index";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { publishEntity } from "../../pipeline/stream-command";
import { startStream, type MessageSubscription } from "../../pipeline/stream";
import { PubSubMessageSubscription, closePubSub } from "../../sources/pubsub";
import { openWarehouse } from "../../sinks/open-backends";
import type { InboundMessage } from "../../sources/messages";

const N = 80;
let emu: Emulators;
let api: DemoApi;

before(async () => {
  emu = await startEmulators(["pubsub"]);
  api = await startDemoApi({ port: 0, sizes: { invoices: N } });
  Object.assign(process.env, demoEnvironment(api.url));
});

after(async () => {
  await closePubSub();
  await api?.close();
  await emu?.stop();
});

/** Loses the ack of the first batch (as a crashed consumer would), so Pub/Sub redelivers it. */
class LosingFirstAck implements MessageSubscription {
  lostAcks = 0;
  constructor(private readonly inner: MessageSubscription) {}
  pull(max: number): Promise<{ messages: InboundMessage[]; ackIds: string[] }> {
    return this.inner.pull(max);
  }
  async ack(ids: readonly string[]): Promise<void> {
    if (this.lostAcks === 0) {
      this.lostAcks = ids.length;
      return this.inner.nack(ids);
    }
    return this.inner.ack(ids);
  }
  nack(ids: readonly string[]): Promise<void> {
    return this.inner.nack(ids);
  }
}

test("records published from the demo API and streamed land exactly once in the hub despite a redelivery", async () => {
  const pubsub = new PubSub({ projectId: emu.project });
  const topic = (await pubsub.createTopic("invoices"))[0];
  await topic.createSubscription("invoices-api2lake", { ackDeadlineSeconds: 10 });

  const source = loadPreset("invoices");
  const published = await publishEntity(source, "invoices", "invoices", { projectId: emu.project, runId: "publish-test" });
  assert.deepEqual(published, { published: N, failures: 0 });

  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-stream-"));
  const subscription = new LosingFirstAck(new PubSubMessageSubscription("invoices-api2lake", { projectId: emu.project, timeoutMs: 1500 }));
  const stream = startStream(subscription, {
    source: source, entity: "invoices", target: { kind: "local", out: out }, options: { out: out, runner: "direct" },
    batchSize: 25, maxBatches: 8,
  });
  const done = await stream.done;
  assert.equal(done.failedBatches, 0);
  assert.ok(subscription.lostAcks > 0, "no redelivery was injected");
  assert.equal(done.messages, N + subscription.lostAcks, "the redelivered batch should have been landed a second time");

  // Expected: every generated invoice whose total is a number (the demo sends a few "1234,56" strings, dead-lettered).
  const expected = Array.from({ length: N }, (_, i) => invoice(api.seed, i)).filter((inv) => typeof inv.total === "number").map((inv) => String(inv.invoice_id)).sort();
  const warehouse = await openWarehouse({ kind: "local", out: out });
  try {
    const rows = await warehouse.query("SELECT invoice_id, count(*) AS n FROM hub.invoices GROUP BY invoice_id ORDER BY invoice_id");
    assert.deepEqual(rows.map((r) => String(r.invoice_id)), expected);
    assert.ok(rows.every((r) => Number(r.n) === 1), "an invoice landed twice in the hub");
    const errors = await warehouse.query("SELECT count(DISTINCT payload) AS n FROM lake.invoices_error_records");
    assert.equal(Number(errors[0].n), N - expected.length);
  } finally {
    await warehouse.close();
  }
});
