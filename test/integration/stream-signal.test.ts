import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { PubSub } from "@google-cloud/pubsub";
import { startEmulators, type Emulators } from "../emulators/emulators";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/index";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { publishEntity } from "../../pipeline/stream-command";
import { closePubSub, pullBatch } from "../../sources/pubsub";
import { openWarehouse } from "../../sinks/open-backends";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "api2lake.js");
const N = 120;
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
