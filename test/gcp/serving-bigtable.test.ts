import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Bigtable } from "@google-cloud/bigtable";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";
import { BigtableServingStore } from "../../sinks/serving-bigtable";
import type { ServingRow } from "../../model/backends";
import { servingContract } from "../sinks/contract";

let emu: Emulators;
before(async () => { emu = await startEmulators(["bigtable"]); });
after(async () => { await emu?.stop(); });

const newStore = (options: { timeoutMs?: number; maxAttempts?: number } = {}) =>
  new BigtableServingStore({ projectId: emu.project, instanceId: "serving", ...options });

servingContract("bigtable (emulator)", async () => {
  const store = newStore();
  return { store: store, close: () => store.close() };
});

const rowsOf = (n: number, from = 0): ServingRow[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `k${String(from + i).padStart(6, "0")}`,
    cells: { f: { n: { value: from + i, encoding: "int64" as const }, s: { value: `v${from + i}`, encoding: "string" as const } } },
  }));

describe("BigtableServingStore specifics", () => {
  it("creates the table and its column families with their GC policy", async () => {
    const store = newStore();
    try {
      await store.ensureTable({ table: "gc_policy", rowKey: "{k}", families: { a: { maxVersions: 3 }, b: { maxVersions: 1, maxAgeDays: 7 } }, columns: { x: "a:x:int64" } });
      await store.ensureTable({ table: "gc_policy", rowKey: "{k}", families: { a: { maxVersions: 3 }, b: { maxVersions: 1, maxAgeDays: 7 }, c: { maxVersions: 2 } }, columns: {} });
      const bt = new Bigtable({ projectId: emu.project, metricsEnabled: false } as never);
      const families = (await bt.instance("serving").table("gc_policy").getFamilies())[0];
      const byId = new Map(families.map((f) => [f.id, JSON.stringify(f.metadata?.gcRule)]));
      assert.deepEqual([...byId.keys()].sort(), ["a", "b", "c"]);
      assert.match(byId.get("a") as string, /"maxNumVersions":3/);
      assert.match(byId.get("b") as string, /union/);
      assert.match(byId.get("b") as string, /"seconds":"604800"/);
      await bt.close();
    } finally {
      await store.close();
    }
  });

  it("typed cells round-trip through a second store instance (encodings kept beside the table)", async () => {
    const a = newStore();
    const b = newStore();
    try {
      await a.ensureTable({ table: "typed_rt", rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: { n: "f:n:int64", x: "f:x:float64" } });
      const rows: ServingRow[] = [{ key: "r", cells: { f: { n: { value: 7, encoding: "int64" }, x: { value: 0.5, encoding: "float64" }, j: { value: [1, { a: 2 }], encoding: "json" } } } }];
      assert.deepEqual(await a.write("typed_rt", rows), { written: 1, failed: [] });
      assert.deepEqual(await b.read("typed_rt"), rows);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a row writing to an undeclared family comes back in failed with Bigtable's reason", async () => {
    const store = newStore();
    try {
      await store.ensureTable({ table: "failing", rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      const result = await store.write("failing", [...rowsOf(3), { key: "bad", cells: { nope: { q: { value: "x", encoding: "string" } } } }]);
      assert.equal(result.written, 3);
      assert.equal(result.failed.length, 1);
      assert.equal(result.failed[0].key, "bad");
      assert.match(result.failed[0].reason, /Bigtable refused the row/);
    } finally {
      await store.close();
    }
  });

  it("writes many rows in batches", async () => {
    const store = new BigtableServingStore({ projectId: emu.project, instanceId: "serving", batchRows: 250 });
    try {
      await store.ensureTable({ table: "batched", rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} });
      assert.deepEqual(await store.write("batched", rowsOf(2000)), { written: 2000, failed: [] });
      assert.equal((await store.read("batched")).length, 2000);
    } finally {
      await store.close();
    }
  });

  it("fault: the emulator stopping mid-write rejects the write with a clear message; a retry after restart loses and duplicates nothing", async () => {
    const config = { table: "fault", rowKey: "{k}", families: { f: { maxVersions: 1 } }, columns: {} };
    const store = newStore({ timeoutMs: 2_000, maxAttempts: 2 });
    try {
      await store.ensureTable(config);
      await store.write("fault", rowsOf(1)); // records the cell encodings first
      const rows = rowsOf(20_000);
      const started = Date.now();
      const writing = store.write("fault", rows);
      setTimeout(() => void emu.stop("bigtable"), 50);
      await assert.rejects(writing, (e: Error) => /mutateRows on fault failed after \d attempt/.test(e.message));
      assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
      await emu.start("bigtable");
      // The emulator keeps nothing across a restart: the retry recreates the table and writes everything.
      const again = newStore();
      await again.ensureTable(config);
      assert.deepEqual(await again.write("fault", rows), { written: rows.length, failed: [] });
      const got = await again.read("fault");
      assert.equal(got.length, rows.length);
      assert.deepEqual(got.map((r) => r.key), rows.map((r) => r.key));
      await again.close();
    } finally {
      await store.close();
    }
  });
});
