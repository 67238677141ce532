import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { impulse } from "apache-beam";
import { alive } from "../support/processes";
import type { Root } from "apache-beam";
import { INSTALL_SCRIPT, pythonBeamInterpreter, runPortable } from "../../pipeline/portable-runner";
import { UsageError } from "../../pipeline/usage-error";
import { BIN } from "../support/cli-process";

/*
 * The portable job service's lifecycle: a missing venv is a usage error naming the install
 * script; the service is gone after a failed job and after a Ctrl-C of the terminal.
 */


const SERVICE_LINE = /portable job service \(pid (\d+)\) at localhost:\d+/;

test("without the venv, --runner portable is a usage error naming the install script", () => {
  const venv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-novenv-")), "python-beam-2.49.0");
  assert.throws(() => pythonBeamInterpreter(venv), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, `--runner portable needs Beam's Python job service (apache-beam[gcp]==2.49.0) in ${venv}: run ${INSTALL_SCRIPT} once (a few minutes, about 300 MB)`);
    return true;
  });
  // A venv whose install was interrupted (python there, no ready marker) is refused the same way.
  fs.mkdirSync(path.join(venv, "bin"), { recursive: true });
  fs.writeFileSync(path.join(venv, "bin", "python"), "");
  assert.throws(() => pythonBeamInterpreter(venv), /run scripts\/install-python-beam\.sh once/);
});

test("a failed portable job rejects with the worker's error and leaves no job service behind", async () => {
  const python = pythonBeamInterpreter();
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  let failure: Error | undefined;
  try {
    await runPortable((root: Root) => {
      root.apply(impulse()).map((_: Uint8Array) => {
        throw new Error("boom in a worker");
      });
    }, { jobName: "api2lake-failing-job" }, python);
  } catch (error) {
    failure = error as Error;
  } finally {
    console.error = original;
  }
  assert.ok(failure, "the failing job resolved");
  assert.match(failure.message, /^Job finished in state FAILED/);
  assert.match(failure.message, /boom in a worker/);
  const line = logged.map((l) => SERVICE_LINE.exec(l)).find((m) => m !== null);
  assert.ok(line, `no job service line in ${logged.join("\n")}`);
  assert.equal(alive(Number(line[1])), false, "the job service outlived the failed job");
});

test("Ctrl-C in the terminal during a portable demo commits a partial run and stops the job service", async () => {
  pythonBeamInterpreter();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-portable-sigint-"));
  // A process group of its own, signalled as a whole: what a terminal's Ctrl-C does.
  const child = spawn(process.execPath, [BIN, "demo", "--runner", "portable", "--out", out], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let signalled = false;
  let servicePid = 0;
  const onData = (d: Buffer) => {
    output += d.toString("utf8");
    const match = SERVICE_LINE.exec(output);
    // The job service is up and the job about to run: a Ctrl-C now must not kill the service
    // (its own process group), the graph still runs and commits what it fetched.
    if (!signalled && match) {
      signalled = true;
      servicePid = Number(match[1]);
      process.kill(-child.pid!, "SIGINT");
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  assert.ok(signalled, `never interrupted:\n${output.slice(-3000)}`);
  assert.equal(code, 130, output.slice(-3000));
  assert.match(output, /run \S+: partial/);
  assert.equal(alive(servicePid), false, "the job service outlived the interrupted run");
  const manifests = fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".json"));
  assert.equal(manifests.length, 1);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, "runs", manifests[0]), "utf8")).status, "partial");
  const pending = path.join(out, "lake", "_pending");
  assert.deepEqual(fs.existsSync(pending) ? fs.readdirSync(pending) : [], []);
});
