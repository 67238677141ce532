import { test, afterEach } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { groupBy, impulse, parDo, singletonSideInput, withName } from "apache-beam";
import type { Root } from "apache-beam";
import { runAndCollect } from "../support/run-and-collect";

// The direct runner's spill (patches/apache-beam: runners/direct_spill.js): with the threshold
// forced low, a ParDo with a side input and groupBy give exactly what they give in memory, and
// no spill file outlives the run, also when a DoFn throws.

const SPILL_ENV = ["API2LAKE_SPILL_ROWS", "API2LAKE_SPILL_DIR"];
let forcedDir: string | undefined;
afterEach(() => {
  for (const name of SPILL_ENV) delete process.env[name];
  if (forcedDir) fs.rmSync(forcedDir, { recursive: true, force: true });
  forcedDir = undefined;
});

/** Forces spilling past `rows` held elements into a fresh directory, returned. */
function forceSpill(rows: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-spill-test-"));
  forcedDir = dir;
  process.env.API2LAKE_SPILL_ROWS = String(rows);
  process.env.API2LAKE_SPILL_DIR = dir;
  return dir;
}

interface SideOut {
  n: number;
  plus: number;
  /** Spill directories present while the element was replayed (set when a spill dir is given). */
  spillDirs: number;
}

function sideInputPipeline(root: Root, spillDir: string) {
  const offset = root.apply(withName("ImpulseSide", impulse())).map(withName("Offset", (_: Uint8Array) => 1000));
  return root
    .apply(withName("ImpulseMain", impulse()))
    .flatMap(withName("Numbers", function* (_: Uint8Array) {
      for (let n = 0; n < 1000; n++) yield { n: n, tag: `t${n % 7}` };
    }))
    .apply(withName("AddOffset", parDo(
      {
        process: function* (x: { n: number; tag: string }, ctx: { offset: { lookup: () => number } }) {
          yield { n: x.n, plus: x.n + ctx.offset.lookup(), spillDirs: spillDir ? fs.readdirSync(spillDir).length : 0 };
        },
      },
      { offset: singletonSideInput(offset) },
    )));
}

test("a ParDo with a side input gives the same outputs, in the same order, when its buffer spills", async () => {
  const expected = Array.from({ length: 1000 }, (_, n) => ({ n: n, plus: n + 1000 }));
  const inMemory = await runAndCollect<SideOut>((root) => sideInputPipeline(root, ""));
  assert.deepEqual(inMemory.map((o) => ({ n: o.n, plus: o.plus })), expected);

  const dir = forceSpill(100);
  const spilled = await runAndCollect<SideOut>((root) => sideInputPipeline(root, dir));
  assert.deepEqual(spilled.map((o) => ({ n: o.n, plus: o.plus })), expected);
  assert.equal(spilled[0].spillDirs, 1, "the buffer did not spill");
  assert.deepEqual(fs.readdirSync(dir), []);
});

interface GroupOut {
  key: string;
  values: number[];
}

function manyKeys(root: Root) {
  return root
    .apply(impulse())
    .flatMap(withName("Numbers", function* (_: Uint8Array) {
      for (let n = 0; n < 5000; n++) yield n;
    }))
    .apply(groupBy((n: number) => `k${n % 700}`))
    .map(withName("Collect", (g: { key: string; value: Iterable<number> }): GroupOut =>
      ({ key: g.key, values: [...g.value] })));
}

test("groupBy over many keys gives the same groups, values in arrival order, when it spills", async () => {
  const expected = new Map<string, number[]>();
  for (let n = 0; n < 5000; n++) {
    const key = `k${n % 700}`;
    expected.set(key, [...(expected.get(key) ?? []), n]);
  }
  const byKey = (groups: GroupOut[]) => [...groups].sort((a, b) => a.key.localeCompare(b.key));
  const want = byKey([...expected].map((e) => ({ key: e[0], values: e[1] })));

  const inMemory = await runAndCollect<GroupOut>(manyKeys);
  assert.deepEqual(byKey(inMemory), want);
  // In memory, groups come in first-seen order, as before the patch.
  assert.deepEqual(inMemory.map((g) => g.key).slice(0, 3), ["k0", "k1", "k2"]);

  // 5000 entries over 32 partitions exceed 100 per partition: partitions are split again.
  const dir = forceSpill(100);
  const spilled = await runAndCollect<GroupOut>(manyKeys);
  assert.equal(spilled.length, 700);
  assert.deepEqual(byKey(spilled), want);
  assert.deepEqual(fs.readdirSync(dir), []);
});

interface OneKeyOut {
  key: string;
  lazy: boolean;
  firstPass: { count: number; sum: number; inOrder: boolean };
  secondPass: { count: number; sum: number; inOrder: boolean };
  spillFiles: number;
}

function oneKey(root: Root, spillDir: string) {
  return root
    .apply(impulse())
    .flatMap(withName("Numbers", function* (_: Uint8Array) {
      for (let n = 0; n < 10_000; n++) yield { n: n, pad: "x".repeat(n % 50) };
    }))
    .apply(groupBy((_: { n: number }) => ""))
    .map(withName("IterateTwice", (g: { key: string; value: Iterable<{ n: number; pad: string }> }): OneKeyOut => {
      const pass = () => {
        let count = 0;
        let sum = 0;
        let inOrder = true;
        for (const v of g.value) {
          if (v.n !== count || v.pad.length !== v.n % 50) inOrder = false;
          count += 1;
          sum += v.n;
        }
        return { count: count, sum: sum, inOrder: inOrder };
      };
      const spillFiles = spillDir ? fs.readdirSync(spillDir, { recursive: true }).length : 0;
      const lazy = !Array.isArray(g.value);
      return { key: g.key, lazy: lazy, firstPass: pass(), secondPass: pass(), spillFiles: spillFiles };
    }));
}

test("groupBy with one key of 10k values gives a lazy re-iterable group when it spills", async () => {
  const full = { count: 10_000, sum: 49_995_000, inOrder: true };
  const inMemory = await runAndCollect<OneKeyOut>((root) => oneKey(root, ""));
  assert.deepEqual(inMemory, [{ key: "", lazy: false, firstPass: full, secondPass: full, spillFiles: 0 }]);

  const dir = forceSpill(100);
  const spilled = await runAndCollect<OneKeyOut>((root) => oneKey(root, dir));
  assert.equal(spilled.length, 1);
  const files = spilled[0].spillFiles;
  assert.deepEqual({ ...spilled[0], spillFiles: 0 }, { key: "", lazy: true, firstPass: full, secondPass: full, spillFiles: 0 });
  assert.ok(files >= 2, `expected the group read from a spill file, saw ${files} entries`);
  // Lazily read groups keep their file until the run ends; then it is gone.
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("spill files are removed when a DoFn downstream of a spilled buffer or grouping throws", async () => {
  const dir = forceSpill(50);
  await assert.rejects(
    runAndCollect<number>((root) => {
      const side = root.apply(withName("ImpulseSide", impulse())).map(withName("One", (_: Uint8Array) => 1));
      return root
        .apply(withName("ImpulseMain", impulse()))
        .flatMap(withName("Numbers", function* (_: Uint8Array) {
          for (let n = 0; n < 500; n++) yield n;
        }))
        .apply(withName("FailAt400", parDo(
          {
            process: function* (n: number, ctx: { one: { lookup: () => number } }) {
              if (n === 400) throw new Error("boom at 400");
              yield n + ctx.one.lookup();
            },
          },
          { one: singletonSideInput(side) },
        )));
    }),
    /boom at 400/,
  );
  assert.deepEqual(fs.readdirSync(dir), []);

  await assert.rejects(
    runAndCollect<number>((root) =>
      root
        .apply(impulse())
        .flatMap(withName("Numbers", function* (_: Uint8Array) {
          for (let n = 0; n < 500; n++) yield n;
        }))
        .apply(groupBy((_: number) => "all"))
        .map(withName("FailOnGroup", (g: { key: string; value: Iterable<number> }): number => {
          let count = 0;
          for (const _v of g.value) count += 1;
          throw new Error(`boom after ${count}`);
        }))),
    /boom after 500/,
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a ParDo fed by another's replay, its side input already collected, processes without buffering", async () => {
  const dir = forceSpill(100);
  const progress = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-spill-progress-")), "first-pardo");
  const seen = await runAndCollect<{ n: number; firstDone: number }>((root) => {
    const offset = root.apply(withName("ImpulseSide", impulse())).map(withName("Offset", (_: Uint8Array) => 1000));
    return root
      .apply(withName("ImpulseMain", impulse()))
      .flatMap(withName("Numbers", function* (_: Uint8Array) {
        for (let n = 0; n < 300; n++) yield n;
      }))
      .apply(withName("First", parDo(
        {
          process: function* (n: number, ctx: { offset: { lookup: () => number } }) {
            fs.appendFileSync(progress, "x");
            yield n + ctx.offset.lookup();
          },
        },
        { offset: singletonSideInput(offset) },
      )))
      .apply(withName("Second", parDo(
        {
          process: function* (n: number, ctx: { offset: { lookup: () => number } }) {
            yield { n: n - ctx.offset.lookup(), firstDone: fs.statSync(progress).size };
          },
        },
        { offset: singletonSideInput(offset) },
      )));
  });
  // Each element reaches Second right after First processed it: Second did not wait for all 300.
  assert.deepEqual(seen, Array.from({ length: 300 }, (_, n) => ({ n: n, firstDone: n + 1 })));
  fs.rmSync(path.dirname(progress), { recursive: true, force: true });
  assert.deepEqual(fs.readdirSync(dir), []);
});
