import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PYTEST_FILE = path.join("deploy", "flex-template", "test_launcher.py");
// No __pycache__ or .pytest_cache left in deploy/.
const ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };

test("the Flex Template launch script passes its pytest suite (mapping, required config, regexes, unknown names, secrets)", () => {
  const probe = spawnSync("python3", ["-c", "import pytest"], { cwd: ROOT, encoding: "utf8", env: ENV });
  if (probe.error || probe.status !== 0) {
    assert.fail(
      "python3 with pytest is required to test deploy/flex-template/launcher.py but is not available " +
        `(${probe.error ? probe.error.message : probe.stderr.trim().split("\n").pop()}). Install it: python3 -m pip install pytest`,
    );
  }
  const run = spawnSync("python3", ["-m", "pytest", "-q", "-p", "no:cacheprovider", PYTEST_FILE], { cwd: ROOT, encoding: "utf8", env: ENV, timeout: 120_000 });
  assert.equal(run.status, 0, `pytest ${PYTEST_FILE} failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /\d+ passed/);
});

test("launcher.py runs as Dataflow runs it and refuses a launch without config (exit 2, nothing executed)", () => {
  const run = spawnSync("python3", [path.join("deploy", "flex-template", "launcher.py"), "--entities=ALL", "--runner=DataflowRunner", "--job_name=x"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...ENV, API2LAKE_NODE: "/nonexistent/node" },
  });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /missing required parameter 'config'/);
});
