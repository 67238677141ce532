import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";
import { spawn, spawnSync } from "child_process";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Runs one of deploy/dataflow-check's scripts; its last line is the verdict, its FAIL lines the reasons. */
async function runCheck(script: string): Promise<string[]> {
  const child = spawn(path.join(ROOT, "deploy", "dataflow-check", script), [], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  const lines = stdout.trimEnd().split("\n");
  const failures = lines.filter((l) => l.startsWith("FAIL "));
  assert.equal(lines[lines.length - 1], "RESULT PASS", `${script} exited ${code}:\n${failures.join("\n")}\n${stdout.slice(-4000)}\n${stderr.slice(-2000)}`);
  assert.equal(code, 0);
  assert.deepEqual(failures, []);
  return lines;
}

/**
 * `npm run check:dataflow` inside `npm test`: the offline Dataflow submission check
 * (deploy/dataflow-check/check-submission.sh) on the build this test belongs to.
 */
test("the offline Dataflow submission check ends RESULT PASS", async () => {
  const lines = await runCheck("check-submission.sh");
  // The batch graph was submitted and its steps found.
  assert.ok(lines.some((l) => l.startsWith("PASS batch: steps: ")), lines.join("\n"));
});

/**
 * The streaming half of `npm run check:dataflow`: `stream --runner dataflow` submitted offline
 * (deploy/dataflow-check/check-streaming.sh, which reads state from fake-gcs-server): the native
 * Pub/Sub read as Python's own, day windows, the per-pane commit and sinks, the streaming flag, no secret.
 */
test("the offline Dataflow streaming submission check ends RESULT PASS", async () => {
  const install = spawnSync(path.join(ROOT, "test", "emulators", "install.sh"), ["gcs"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(install.status, 0, install.stderr);
  await runCheck("check-streaming.sh");
});
