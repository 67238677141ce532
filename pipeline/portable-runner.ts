import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// Beam's modules import each other in a cycle (pvalue <-> transforms/transform) that resolves only
// when the package root loads first; a runner module required before it fails at load.
import "apache-beam";
import type { Root } from "apache-beam";
import type { PipelineResult } from "apache-beam/runners/runner";
import { PortableRunner } from "apache-beam/runners/portable_runner/runner";
import { UsageError } from "./usage-error";

/**
 * `--runner portable`: the graph runs on Beam's Python portable job service
 * (`apache_beam.runners.portability.local_job_service_main`, apache-beam 2.49.0, the release of our
 * TypeScript SDK) with the TypeScript workers in this process over the Fn API (LOOPBACK), so local
 * sinks work. The job service splits the work into many bundles, as Dataflow does. api2lake
 * starts it and stops it; see README "Runners" for why this runner and not Prism.
 */

/** The Python Beam release the job service must be (the TypeScript SDK's own). */
export const PYTHON_BEAM_VERSION = "2.49.0";
/** The project script that creates the venv (relative to the project root). */
export const INSTALL_SCRIPT = "scripts/install-python-beam.sh";
/** Written last by the install script: a venv without it is an interrupted install. */
const READY_MARKER = ".api2lake-ready";
/** How long the job service may take to open its port (measured about 2-3 s; the SDK allows 10 s). */
const START_TIMEOUT_MS = 60_000;
/** How long a stopped job service may take to exit before it is killed. */
const STOP_TIMEOUT_MS = 5_000;
/**
 * Workers the job service starts (each a TypeScript worker in this process): with more than one,
 * Beam's FnApiRunner cuts every stage's input into that many bundles, run at once (its
 * ParallelBundleManager), so the graph meets split, concurrent bundles as on Dataflow.
 */
const PORTABLE_WORKERS = 4;
/** Lines of the job service's log kept to explain a failed job. */
const LOG_TAIL_LINES = 30;

/** The venv of `scripts/install-python-beam.sh`: `API2LAKE_BEAM_VENV`, else ~/.cache/api2lake/python-beam-2.49.0. */
export function pythonBeamVenv(env: NodeJS.ProcessEnv = process.env): string {
  return env.API2LAKE_BEAM_VENV || path.join(os.homedir(), ".cache", "api2lake", `python-beam-${PYTHON_BEAM_VERSION}`);
}

/**
 * The venv's python, or a UsageError naming the install script when the venv is missing or was
 * not completed (no `.api2lake-ready` marker).
 */
export function pythonBeamInterpreter(venv: string = pythonBeamVenv()): string {
  const python = path.join(venv, "bin", "python");
  if (!fs.existsSync(python) || !fs.existsSync(path.join(venv, READY_MARKER))) {
    throw new UsageError(
      `--runner portable needs Beam's Python job service (apache-beam[gcp]==${PYTHON_BEAM_VERSION}) in ${venv}: ` +
        `run ${INSTALL_SCRIPT} once (a few minutes, about 300 MB)`,
    );
  }
  return python;
}

/** A running job service: its Job API endpoint (`localhost:<port>`), its pid, and how to stop it. */
export interface JobService {
  endpoint: string;
  pid: number;
  /** The last lines it logged (to explain a failed job). */
  logTail: () => string[];
  /** SIGTERM (it removes its staging dir), SIGKILL after 5 s; resolves when it exited. Idempotent. */
  stop: () => Promise<void>;
}

/** Starts the job service with our fixes for apache-beam 2.49.0 (see the script's docstring). */
const JOB_SERVICE_SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "portable-job-service.py");

/**
 * Starts the local portable job service with `python` (a venv's interpreter) on a free port and
 * resolves once it listens (its "Listening for beam jobs on port N." log line). Rejects, with the
 * service's last log lines, when it exits first or does not listen within 60 s.
 * It runs in a process group of its own: the terminal's Ctrl-C goes to api2lake only, which
 * decides what a stop means (pipeline/interrupts.ts) and then stops the service itself.
 */
export function startJobService(python: string): Promise<JobService> {
  const child = childProcess.spawn(python, ["-u", JOB_SERVICE_SCRIPT, String(PORTABLE_WORKERS)], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, PYTHONWARNINGS: "ignore" },
  });
  const tail: string[] = [];
  let exited = child.exitCode !== null;
  const exitedPromise = new Promise<void>((resolve) => child.once("exit", () => {
    exited = true;
    resolve();
  }));
  // A process.exit (the second Ctrl-C) skips every finally: kill it on the way out.
  const onExit = () => {
    if (!exited) child.kill("SIGKILL");
  };
  process.on("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exitedPromise;
    clearTimeout(timer);
  };
  return new Promise<JobService>((resolve, reject) => {
    let pending = "";
    let started = false;
    const onData = (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        const listening = /Listening for beam jobs on port (\d+)\./.exec(line);
        if (listening && !started) {
          started = true;
          clearTimeout(timer);
          resolve({ endpoint: `localhost:${listening[1]}`, pid: child.pid ?? -1, logTail: () => tail.slice(), stop: stop });
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const fail = (why: string) => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`the portable job service (${python}) ${why}${tail.length ? ": " + tail.join("\n") : ""}`)));
    };
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.once("error", (error) => fail(`could not start (${error.message})`));
    void exitedPromise.then(() => fail(`exited with code ${child.exitCode}`));
  });
}

/**
 * Runs the graph `build` on a job service of its own and stops the service afterwards, whether the
 * job succeeded, failed or the run threw. `options` are Beam pipeline options (camelCase, e.g.
 * `jobName`); the result's counters are read from the job's final metrics, which stay available
 * after the service stopped. A job that does not finish DONE rejects with the service's last log
 * lines (the Python side logs the worker's error there).
 */
export async function runPortable(build: (root: Root) => void, options: Record<string, unknown>, python = pythonBeamInterpreter()): Promise<PipelineResult> {
  const service = await startJobService(python);
  // Says which process to look for (it is stopped when the run ends, however it ends).
  console.error(`api2lake: portable job service (pid ${service.pid}) at ${service.endpoint}, ${PORTABLE_WORKERS} workers`);
  try {
    const runner = new PortableRunner({ ...options, jobEndpoint: service.endpoint, environmentType: "LOOPBACK" });
    return await runner.run(build);
  } catch (error) {
    const errorLines = service.logTail().filter((l) => /error|exception|traceback/i.test(l));
    throw new Error(`${(error as Error).message}${errorLines.length ? ` (job service: ${errorLines.slice(-5).join(" | ")})` : ""}`);
  } finally {
    await service.stop();
  }
}
