import { test } from "node:test";
import * as assert from "node:assert/strict";
import { impulse, parDo, groupBy, withName } from "apache-beam";
import { Root, PCollection } from "apache-beam";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runAndCollect } from "../support/run-and-collect";
import { requireForSerialization } from "apache-beam/serialization";

requireForSerialization("fs", fs);


const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test("process may return a Promise of an iterable, and outputs reach a groupBy", async () => {
  const out = await runAndCollect((root) =>
    root
      .apply(impulse())
      .flatMap(function* range() { for (let i = 0; i < 20; i++) yield i; })
      .apply(parDo({ process: async function (x: number) { await delay(5); return [{ k: x % 2, v: x }]; } }))
      .apply(groupBy((x: { k: number; v: number }) => x.k))
      .map((kv: { key: number; value: Iterable<{ v: number }> }) => ({ key: kv.key, n: [...kv.value].length })),
  );
  assert.deepEqual((out as { key: number; n: number }[]).sort((a, b) => a.key - b.key), [{ key: 0, n: 10 }, { key: 1, n: 10 }]);
});

test("async map yields the resolved value, not the Promise", async () => {
  const out = await runAndCollect((root) =>
    root.apply(impulse()).flatMap(function* () { yield 1; yield 2; }).map(async (x: number) => { await delay(1); return x * 10; }),
  );
  assert.deepEqual(out.sort(), [10, 20]);
});

test("async startBundle and finishBundle are awaited", async () => {
  const out = await runAndCollect((root) =>
    root.apply(impulse()).flatMap(function* () { yield "a"; yield "b"; }).apply(
      parDo({
        startBundle: async function (this: any) { await delay(20); this.prefix = "ready:"; },
        process: function (this: any, x: string) { return [this.prefix + x]; },
        finishBundle: async function () { await delay(20); return []; },
      } as any),
    ),
  );
  assert.deepEqual(out.sort(), ["ready:a", "ready:b"]);
});

test("a rejected promise fails the run with its message", async () => {
  await assert.rejects(
    runAndCollect((root) =>
      root.apply(impulse()).flatMap(function* () { yield 1; yield 2; yield 3; }).apply(
        parDo({ process: async function (x: number) { await delay(1); if (x === 2) throw new Error("page 2 exploded"); return [x]; } }),
      ),
    ),
    /page 2 exploded/,
  );
});

test("several elements are in flight at once, bounded by maxConcurrency", async () => {
  const probeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "beam-conc-")), "probe.json");
  const out = await runAndCollect((root) =>
    root.apply(impulse()).flatMap(function* () { for (let i = 0; i < 40; i++) yield i; }).apply(
      withName("ConcurrentCalls", parDo({
        maxConcurrency: 4,
        process: async function (x: number) {
          const state = fs.existsSync(probeFile) ? JSON.parse(fs.readFileSync(probeFile, "utf8")) : { now: 0, max: 0 };
          state.now += 1; state.max = Math.max(state.max, state.now);
          fs.writeFileSync(probeFile, JSON.stringify(state));
          await delay(10);
          const after = JSON.parse(fs.readFileSync(probeFile, "utf8"));
          after.now -= 1;
          fs.writeFileSync(probeFile, JSON.stringify(after));
          return [x];
        },
      })),
    ),
  );
  assert.equal(out.length, 40);
  assert.equal(JSON.parse(fs.readFileSync(probeFile, "utf8")).max, 4);
});
