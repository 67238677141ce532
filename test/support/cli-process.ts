import { spawn, type ChildProcess } from "child_process";
import * as path from "path";

/** The built CLI (`bin/api2lake.js`), run as a separate process like a user would. */
export const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "api2lake.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process exits (never rejects). */
  done: Promise<CliResult>;
  /** Resolves with the output so far once stdout + stderr matches `pattern` (rejects if the process exits first). */
  waitFor(pattern: RegExp): Promise<string>;
}

/**
 * Starts `api2lake <args>` asynchronously (a local test server in this process keeps answering,
 * which `spawnSync` would block). `env` is added to this process's environment.
 */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const watchers: { pattern: RegExp; resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of watchers.slice()) {
      if (w.pattern.test(stdout + stderr)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(stdout + stderr);
      }
    }
  };
  child.stdout!.on("data", (d: Buffer) => { stdout += d.toString("utf8"); check(); });
  child.stderr!.on("data", (d: Buffer) => { stderr += d.toString("utf8"); check(); });
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => {
      for (const w of watchers.splice(0)) w.reject(new Error(`api2lake exited (${code}) before printing ${w.pattern}:\n${stdout}\n${stderr}`));
      resolve({ code: code, signal: signal, stdout: stdout, stderr: stderr });
    });
  });
  return {
    child: child,
    done: done,
    waitFor: (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        watchers.push({ pattern: pattern, resolve: resolve, reject: reject });
        check();
      }),
  };
}

/** Runs `api2lake <args>` to completion. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}
