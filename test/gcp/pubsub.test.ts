import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { PubSub } from "@google-cloud/pubsub";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";
import { closePubSub, publishRecords, pullBatch, PubSubMessageSubscription } from "../../sources/pubsub";

let emu: Emulators;
let n = 0;
before(async () => { emu = await startEmulators(["pubsub"]); });
after(async () => { await closePubSub(); await emu?.stop(); });

/** A fresh topic and subscription (10 s ack deadline, the emulator's minimum). */
async function topicWithSubscription(): Promise<{ topic: string; subscription: string }> {
  const ps = new PubSub({ projectId: emu.project });
  const id = `t${process.pid}-${++n}`;
  const topic = (await ps.createTopic(id))[0];
  await topic.createSubscription(`${id}-sub`, { ackDeadlineSeconds: 10 });
  await ps.close();
  return { topic: `projects/${emu.project}/topics/${id}`, subscription: `projects/${emu.project}/subscriptions/${id}-sub` };
}

const invoices = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ invoice_id: `inv-${i}`, issued_at: `2026-01-15T10:00:${String(i % 60).padStart(2, "0")}Z`, total: i }));

describe("Pub/Sub publish and bounded pull (pstest)", () => {
  it("publish -> pull -> ack round trip with id and event_time attributes; acked messages do not return", async () => {
    const { topic, subscription } = await topicWithSubscription();
    const records = invoices(120);
    const ids = await publishRecords(topic, records, { idField: "invoice_id", eventTimeField: "issued_at", batchSize: 50 });
    assert.equal(ids.length, 120);
    const got = [];
    for (let i = 0; i < 10 && got.length < 120; i++) {
      const batch = await pullBatch(subscription, { maxMessages: 100, timeoutMs: 2000 });
      assert.ok(batch.messages.length <= 100);
      got.push(...batch.messages);
      await batch.ack();
    }
    assert.equal(got.length, 120);
    const byId = new Map(got.map((m) => [m.attributes.id, m]));
    for (const r of records) {
      const m = byId.get(r.invoice_id);
      assert.ok(m, r.invoice_id);
      assert.deepEqual(JSON.parse(m.data), r);
      assert.equal(m.attributes.event_time, r.issued_at);
      assert.ok(!Number.isNaN(Date.parse(m.publishTime)));
    }
    const empty = await pullBatch(subscription, { maxMessages: 10, timeoutMs: 500 });
    assert.equal(empty.messages.length, 0);
  });

  it("a nacked batch is redelivered; an empty subscription returns an empty batch within the timeout", async () => {
    const { topic, subscription } = await topicWithSubscription();
    const started = Date.now();
    assert.equal((await pullBatch(subscription, { maxMessages: 5, timeoutMs: 300 })).messages.length, 0);
    assert.ok(Date.now() - started < 3000);
    await publishRecords(topic, invoices(3), { idField: "invoice_id" });
    const first = await pullBatch(subscription, { maxMessages: 10, timeoutMs: 2000 });
    assert.equal(first.messages.length, 3);
    await first.nack();
    const again = await pullBatch(subscription, { maxMessages: 10, timeoutMs: 2000 });
    assert.deepEqual(again.messages.map((m) => m.attributes.id).sort(), first.messages.map((m) => m.attributes.id).sort());
    await again.ack();
    assert.equal((await pullBatch(subscription, { maxMessages: 10, timeoutMs: 300 })).messages.length, 0);
  });

  it("the stream loop's subscription interface acks and nacks by ack id", async () => {
    const { topic, subscription } = await topicWithSubscription();
    await publishRecords(topic, invoices(4), { idField: "invoice_id" });
    const sub = new PubSubMessageSubscription(subscription, { timeoutMs: 2000 });
    const pulled = await sub.pull(10);
    assert.equal(pulled.messages.length, 4);
    await sub.nack(pulled.ackIds.slice(0, 1));
    await sub.ack(pulled.ackIds.slice(1));
    const back = await sub.pull(10);
    assert.deepEqual(back.messages.map((m) => m.id), [pulled.messages[0].id]);
    await sub.ack(back.ackIds);
  });

  it("a record without its id field is refused before anything is published", async () => {
    const { topic } = await topicWithSubscription();
    await assert.rejects(publishRecords(topic, [{ invoice_id: "a" }, { total: 1 }], { idField: "invoice_id" }), /record 1 has no "invoice_id"/);
  });
});
