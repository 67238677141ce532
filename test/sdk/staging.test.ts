import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import "apache-beam"; // loads the SDK in its own order; the runner module alone hits a require cycle
import { packInstalledSdk } from "apache-beam/runners/portable_runner/runner";

test("Dataflow staging packs the installed, patched SDK instead of the missing 2_49_rc tag", () => {
  const runnerSource = require.resolve("apache-beam/runners/portable_runner/runner");
  assert.doesNotMatch(fs.readFileSync(runnerSource, "utf8"), /apache-beam@2_49_rc/);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beam-stage-"));
  const tarball = packInstalledSdk(tmp);
  assert.ok(fs.existsSync(tarball), `no tarball at ${tarball}`);
  const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" });
  assert.match(listing, /package\/dist\/src\/apache_beam\/worker\/operators\.js/);

  execFileSync("tar", ["-xzf", tarball, "-C", tmp]);
  const staged = fs.readFileSync(path.join(tmp, "package/dist/src/apache_beam/worker/operators.js"), "utf8");
  const installed = fs.readFileSync(require.resolve("apache-beam/worker/operators"), "utf8");
  assert.equal(staged, installed, "the staged operators.js differs from the installed one");
  assert.match(staged, /api2lake patch/);
});
