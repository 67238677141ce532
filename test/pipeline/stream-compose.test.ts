import { before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as fc from "fast-check";
import { airQualityReadings, invoice, stationId } from "../../sources/demo-api/index";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { startStream, type MessageSubscription } from "../../pipeline/stream";
import type { InboundMessage } from "../../sources/messages";
import type { SourceConfig } from "../../model/source-config";
import { landedState } from "./snapshot";

/**
 * Streaming micro-batches compose: the same messages landed as two micro-batches (cut at a
 * random message) leave the hub, the dataproducts and the serving store as one batch does.
 */

before(() => {
  // The presets read the demo API's address and key at load time; no request is made here.
  Object.assign(process.env, demoEnvironment("http://127.0.0.1:9"));
});

/** A subscription that hands out the given batches in order, then nothing. */
class Batches implements MessageSubscription {
  private next = 0;
  constructor(private readonly batches: InboundMessage[][]) {}
  async pull(): Promise<{ messages: InboundMessage[]; ackIds: string[] }> {
    const messages = this.batches[this.next++] ?? [];
    return { messages: messages, ackIds: messages.map((m) => m.id) };
  }
  async ack(): Promise<void> {}
  async nack(): Promise<void> {
    throw new Error("a micro-batch failed");
  }
}

const message = (i: number, record: object): InboundMessage => ({ id: String(i), data: JSON.stringify(record), publishTime: "2024-04-01T00:00:00.000Z", attributes: {} });

async function land(source: SourceConfig, entity: string, batches: InboundMessage[][], servingTables: string[]): Promise<Record<string, string[]>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-stream-compose-"));
  const target = { kind: "local" as const, out: out };
  const stream = startStream(new Batches(batches), { source: source, entity: entity, target: target, options: { out: out, runner: "direct" }, batchSize: 1_000_000, maxBatches: batches.length });
  const result = await stream.done;
  assert.equal(result.failedBatches, 0);
  return landedState(target, servingTables);
}

/** Rome's readings of 2024-03-29..04-01 (the DST change inside) as messages, station attached as the REST read does. */
function readingMessages(): InboundMessage[] {
  const hours = airQualityReadings(1, 1, 92).filter((r) => r.timestamp >= "2024-03-29" && r.timestamp < "2024-04-01");
  return hours.map((r, i) => message(i, { ...r, station_id: stationId(1) }));
}

for (const c of [
  { preset: "airquality", entity: "readings", messages: readingMessages, serving: [] as string[] },
  { preset: "invoices", entity: "invoices", messages: () => Array.from({ length: 60 }, (_, i) => message(i, invoice(1, i))), serving: ["invoices"] },
]) {
  test(`${c.preset}: two micro-batches land as one batch of the same messages`, async () => {
    const source = loadPreset(c.preset);
    const messages = c.messages();
    const expected = await land(source, c.entity, [messages], c.serving);
    const products = Object.keys(expected).filter((k) => k.startsWith("dataproducts.") || k.startsWith("serving."));
    assert.ok(products.every((k) => expected[k].length > 0), `every dataproduct and serving table has rows (${products.join(", ")})`);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: messages.length - 1 }), async (cut) => {
        assert.deepEqual(await land(source, c.entity, [messages.slice(0, cut), messages.slice(cut)], c.serving), expected, `cut at message ${cut}`);
      }),
      { numRuns: 2, endOnFailure: true },
    );
  });
}
