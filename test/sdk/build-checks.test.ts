import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// The build tooling is plain JS under scripts/, resolved from the compiled test's location.
const scripts = path.resolve(__dirname, "..", "..", "..", "scripts");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const buildTools = require(path.join(scripts, "build.js"));
const traps = require(path.join(scripts, "serialization-traps.js"));

test("a build without the closure transform is caught", () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-build-"));
  buildTools.build({ withClosureTransform: false, outDir: outDir });
  assert.equal(buildTools.closureTransformRan(outDir), false);
});

test("the real build carries the closure transform", () => {
  assert.equal(buildTools.closureTransformRan(path.resolve(__dirname, "..", "..")), true);
});

test("serialization traps are rejected with their line", () => {
  const source = [
    'import { format } from "util";',
    "const [a, b] = [1, 2];",
    "const fn = { process(x: number) { return x; } };",
    "const opts = { format };",
    "const ok1 = { format: format, process: function (x: number) { return x; } };",
    "for (const [k, v] of Object.entries({})) { void k; void v; }",
    "function f({ a }: { a: number }) { return a; }",
    "for (let i = 0; i < 3; i++) { [1].map((x) => x + i); }",
    "for (let j = 0; j < 3; j++) { const k = j; [1].map((x) => x + k); }",
  ].join("\n");
  const found = traps.checkSource("example.ts", source);
  assert.deepEqual(found.map((t: { line: number }) => t.line), [2, 3, 4, 8]);
  assert.match(found[3].message, /loop variable `i` is captured by a closure/);
  assert.match(found[0].message, /array destructuring/);
  assert.match(found[1].message, /method shorthand/);
  assert.match(found[2].message, /format: format/);
});
