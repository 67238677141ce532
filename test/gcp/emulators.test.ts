import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "net";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port: port });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });

describe("emulator harness", () => {
  let emu: Emulators;
  before(async () => { emu = await startEmulators(["pubsub", "bigtable", "gcs"]); });
  after(async () => { await emu?.stop(); });

  it("publishes the client environment and distinct OS-chosen ports", () => {
    assert.equal(process.env.PUBSUB_EMULATOR_HOST, `127.0.0.1:${emu.ports.pubsub}`);
    assert.equal(process.env.BIGTABLE_EMULATOR_HOST, `127.0.0.1:${emu.ports.bigtable}`);
    assert.equal(process.env.STORAGE_EMULATOR_HOST, `http://127.0.0.1:${emu.ports.gcs}/storage/v1`);
    assert.equal(process.env.API2LAKE_STORAGE_ENDPOINT, `http://127.0.0.1:${emu.ports.gcs}`);
    assert.equal(new Set(Object.values(emu.ports)).size, 3);
  });

  it("stops one emulator and restarts it on the same port", async () => {
    const port = emu.ports.bigtable as number;
    await emu.stop("bigtable");
    assert.equal(await connects(port), false);
    await emu.start("bigtable");
    assert.equal(await connects(port), true);
  });

  it("a second harness on the same machine gets its own ports", async () => {
    const other = await startEmulators(["pubsub"], { applyEnv: false });
    try {
      assert.notEqual(other.ports.pubsub, emu.ports.pubsub);
      assert.equal(await connects(other.ports.pubsub as number), true);
    } finally {
      await other.stop();
    }
  });

  it("an emulator that does not come up in time fails with a clear error naming it", async () => {
    await assert.rejects(startEmulators(["gcs"], { applyEnv: false, readyTimeoutMs: 1 }), /gcs emulator \(.*fake-gcs-server on 127\.0\.0\.1:\d+\) did not answer within 1 ms; its output ends with:/);
  });
});
