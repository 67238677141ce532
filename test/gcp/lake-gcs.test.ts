import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { File, Storage } from "@google-cloud/storage";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";
import { GcsLake } from "../../sinks/lake-gcs";
import { lakeContract } from "../sinks/contract";

let emu: Emulators;
const storage = () => new Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT });
let counter = 0;
/** A fresh bucket per lake so tests never see each other's objects. */
export async function makeGcsLake(options: { resumableThresholdBytes?: number } = {}): Promise<GcsLake> {
  const bucket = `lake-${process.pid}-${++counter}`;
  await storage().createBucket(bucket);
  return new GcsLake({ bucket: bucket, projectId: emu.project, resumableThresholdBytes: options.resumableThresholdBytes });
}

before(async () => { emu = await startEmulators(["gcs"]); });
after(async () => { await emu?.stop(); });

lakeContract("gcs (fake-gcs-server)", async () => {
  const lake = await makeGcsLake();
  return {
    lake: lake,
    readObject: async (rel: string) => {
      const file = storage().bucket(lake.options.bucket).file(`lake/${rel}`);
      return (await file.exists())[0] ? (await file.download())[0].toString("utf8") : undefined;
    },
  };
});

describe("GcsLake on fake-gcs-server", () => {
  it("keeps shards invisible until commit, then lists them under the local layout", async () => {
    const lake = await makeGcsLake();
    const rows = [{ id: 1, name: "a" }, { id: 2, name: "é" }];
    const rel = await lake.writeShard({ layer: "raw", entity: "customers", dt: "2026-01-15", runId: "r1", shard: "w0-0", rows: rows });
    assert.equal(rel, "raw/customers/dt=2026-01-15/r1-w0-0.ndjson");
    assert.deepEqual(await lake.list("raw/"), []);
    assert.deepEqual(await lake.list(""), []);
    await lake.commit("r1");
    assert.deepEqual(await lake.list("raw/customers/"), [rel]);
    const body = (await storage().bucket(lake.options.bucket).file(`lake/${rel}`).download())[0].toString();
    assert.deepEqual(body.trimEnd().split("\n").map((l) => JSON.parse(l)), rows);
    assert.deepEqual((await storage().bucket(lake.options.bucket).getFiles({ prefix: "lake/_pending/" }))[0], []);
  });

  it("uploads a shard over 5 MB through a resumable session, intact", async () => {
    const lake = await makeGcsLake();
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ id: i, pad: "x".repeat(200), n: i * 1.5 }));
    // Count which upload path the client takes (its own methods, observed, not replaced).
    const proto = File.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const seen: string[] = [];
    const originals = { resumable: proto.startResumableUpload_, simple: proto.startSimpleUpload_ };
    proto.startResumableUpload_ = function (this: unknown, ...args: unknown[]) { seen.push("resumable"); return originals.resumable.apply(this, args); };
    proto.startSimpleUpload_ = function (this: unknown, ...args: unknown[]) { seen.push("simple"); return originals.simple.apply(this, args); };
    let rel: string;
    try {
      rel = await lake.writeShard({ layer: "processed", entity: "big", dt: "2026-01-15", runId: "r2", shard: "s0", rows: rows });
      await lake.writeShard({ layer: "processed", entity: "big", dt: "2026-01-15", runId: "r2", shard: "s1", rows: rows.slice(0, 10) });
    } finally {
      proto.startResumableUpload_ = originals.resumable;
      proto.startSimpleUpload_ = originals.simple;
    }
    assert.deepEqual(seen, ["resumable", "simple"]);
    await lake.commit("r2");
    const file = storage().bucket(lake.options.bucket).file(`lake/${rel}`);
    const meta = (await file.getMetadata())[0];
    assert.ok(Number(meta.size) > 5 * 1024 * 1024, `size ${meta.size}`);
    const lines = (await file.download())[0].toString().trimEnd().split("\n");
    assert.equal(lines.length, rows.length);
    assert.deepEqual(JSON.parse(lines[29_999]), rows[29_999]);
  });

  it("never overwrites a final name with different content; a repeated commit is harmless", async () => {
    const lake = await makeGcsLake();
    const shard = { layer: "raw" as const, entity: "e", dt: "2026-01-15", runId: "r3", shard: "s0", rows: [{ a: 1 }] };
    await lake.writeShard(shard);
    await lake.commit("r3");
    await lake.writeShard(shard);
    await lake.commit("r3");
    assert.deepEqual(await lake.list("raw/e/"), ["raw/e/dt=2026-01-15/r3-s0.ndjson"]);
    await lake.writeShard({ ...shard, rows: [{ a: 2 }] });
    await assert.rejects(lake.commit("r3"), /already exists with different content/);
    const text = (await storage().bucket(lake.options.bucket).file("lake/raw/e/dt=2026-01-15/r3-s0.ndjson").download())[0].toString();
    assert.equal(text, '{"a":1}\n');
  });

  it("writes and reads manifests and watermarks beside the lake", async () => {
    const lake = await makeGcsLake();
    assert.equal(await lake.readText("state/watermark.json"), undefined);
    await lake.writeText("runs/r1.json", '{"ok":true}');
    await lake.writeText("state/watermark.json", "1");
    await lake.writeText("state/watermark.json", "2");
    assert.equal(await lake.readText("runs/r1.json"), '{"ok":true}');
    assert.equal(await lake.readText("state/watermark.json"), "2");
    assert.deepEqual(await lake.list(""), []);
    await assert.rejects(lake.writeText("../x", "y"), /relative/);
  });
});
