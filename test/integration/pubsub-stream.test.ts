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
import { PubSubMessageSubscription, closePubSub, pullBatch } from "../../sources/pubsub";
import { openWarehouse } from "../../sinks/open-backends";
import type { InboundMessage } from "../../sources/messages";
import { spawn } from "child_process";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "api2lake.js");

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

test("SIGTERM lets `api2lake stream` finish the batch in hand, ack it, and exit 0; the rest stays queued", async () => {
  const pubsub = new PubSub({ projectId: emu.project });
  const topic = (await pubsub.createTopic("invoices-signal"))[0];
  await topic.createSubscription("invoices-signal-sub", { ackDeadlineSeconds: 60 });
  const published = await publishEntity(loadPreset("invoices"), "invoices", "invoices-signal", { projectId: emu.project, runId: "publish-signal" });
  assert.equal(published.published, N);

  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-signal-"));
  const child = spawn(process.execPath, [BIN, "stream", "--config", "invoices", "--entity", "invoices", "--subscription", "invoices-signal-sub", "--project", emu.project, "--out", out, "--batchSize", "10"], { env: process.env });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const firstBatch = new Promise<void>((resolve) => child.stdout.on("data", (d) => {
    stdout += d;
    if (/batch \S+: succeeded/.test(stdout)) resolve();
  }));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await firstBatch;
  child.kill("SIGTERM");
  const code = await exited;
  assert.equal(code, 0, `stream exited ${code}: ${stderr}`);
  assert.match(stdout, /stream stopped after \d+ pulls: (\d+) messages landed, 0 batches failed/);
  const landed = Number(/(\d+) messages landed/.exec(stdout)![1]);
  assert.ok(landed >= 10 && landed < N, `landed ${landed}`);

  const warehouse = await openWarehouse({ kind: "local", out: out });
  let inHub: number;
  try {
    const rows = await warehouse.query("SELECT count(*) AS n, count(DISTINCT invoice_id) AS d FROM hub.invoices");
    inHub = Number(rows[0].n);
    assert.equal(inHub, Number(rows[0].d));
    const dead = await warehouse.query("SELECT count(*) AS n FROM lake.invoices_error_records").catch(() => [{ n: 0 }]);
    assert.equal(inHub + Number(dead[0].n), landed, "every acked message is in the hub or in dead letters");
  } finally {
    await warehouse.close();
  }
  // What was not acked is still there for the next consumer.
  let remaining = 0;
  for (let round = 0; round < 20 && remaining < N - landed; round++) {
    const batch = await pullBatch("invoices-signal-sub", { projectId: emu.project, maxMessages: 100, timeoutMs: 1500 });
    remaining += batch.messages.length;
    await batch.ack();
  }
  assert.equal(remaining, N - landed);
});
