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
  return watch(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
}

/** POSIX shell quoting of one argument. */
function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

/**
 * Starts `api2lake <args>` on a pseudo-terminal (util-linux `script`, 200 columns), as a user at a
 * terminal would: stdout and stderr are the terminal, whose output (escape sequences included) is `stdout`.
 */
export function startCliInTerminal(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const command = `stty cols 200 rows 50; exec ${[process.execPath, BIN, ...args].map(shellQuote).join(" ")}`;
  return watch(spawn("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }));
}

function watch(child: ChildProcess): CliProcess {
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
