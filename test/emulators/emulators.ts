import * as childProcess from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/**
 * Starts the real Google Cloud emulators (pinned in versions.env, built by install.sh) on free
 * 127.0.0.1 ports and points the unmodified `@google-cloud/*` clients at them.
 *
 * @example
 *   const emu = await startEmulators(["gcs", "bigquery"]);   // in a `before` hook
 *   const bq = new BigQuery({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_BIGQUERY_ENDPOINT });
 *   await emu.stop();                                        // in an `after` hook
 *
 * Every emulator runs in its own process group behind a watchdog that kills it when this
 * process goes away (even on SIGKILL: the watchdog sees its stdin close).
 */
export type EmulatorName = "pubsub" | "bigtable" | "gcs" | "bigquery";

export const ALL_EMULATORS: readonly EmulatorName[] = ["pubsub", "bigtable", "gcs", "bigquery"];

/** The project every emulator is started for; pass it as `projectId` to the clients. */
export const EMULATOR_PROJECT = "api2lake-test";

export interface Emulators {
  project: string;
  /**
   * PUBSUB_EMULATOR_HOST, BIGTABLE_EMULATOR_HOST, STORAGE_EMULATOR_HOST (`http://host:port/storage/v1`)
   * with API2LAKE_STORAGE_ENDPOINT (`http://host:port`, the Storage client's `apiEndpoint`), and
   * API2LAKE_BIGQUERY_ENDPOINT (the BigQuery client's `apiEndpoint`), for those started.
   */
  env: Record<string, string>;
  ports: Partial<Record<EmulatorName, number>>;
  /** Stops one emulator (its port stays reserved for `start`), or all of them. */
  stop(name?: EmulatorName): Promise<void>;
  /** (Re)starts a stopped emulator on its original port; BigQuery keeps its data across restarts. */
  start(name: EmulatorName): Promise<void>;
}

export interface StartOptions {
  /** Copy `env` into `process.env` so lazily created clients find the emulators (default true). */
  applyEnv?: boolean;
  /** How long one emulator may take to answer (default 90 s). */
  readyTimeoutMs?: number;
}

const BINARIES: Record<EmulatorName, { name: string; versionKey: string }> = {
  pubsub: { name: "pstest-server", versionKey: "PUBSUB_PSTEST_VERSION" },
  bigtable: { name: "emulator", versionKey: "BIGTABLE_EMULATOR_VERSION" },
  gcs: { name: "fake-gcs-server", versionKey: "FAKE_GCS_SERVER_VERSION" },
  bigquery: { name: "bigquery-emulator", versionKey: "BIGQUERY_EMULATOR_VERSION" },
};

/** The source folder holding install.sh and versions.env (this file compiles to dist/test/emulators). */
function emulatorsDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "test", "emulators", "install.sh");
    if (fs.existsSync(candidate)) return path.dirname(candidate);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`test/emulators/install.sh not found above ${__dirname}`);
    dir = parent;
  }
}

function readVersions(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(dir, "versions.env"), "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)=(\S+)/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Path of an emulator binary in the cache (may not exist yet). */
export function emulatorBinary(name: EmulatorName): string {
  const versions = readVersions(emulatorsDir());
  const b = BINARIES[name];
  const cache = path.join(process.env.API2LAKE_CACHE ?? path.join(os.homedir(), ".cache", "api2lake"), "emulators");
  return path.join(cache, `${b.name}-${versions[b.versionKey]}`, "bin", b.name);
}

/** Builds whichever of `names` is missing (first run only; the BigQuery emulator takes minutes). */
export function ensureInstalled(names: readonly EmulatorName[]): void {
  const missing = names.filter((n) => !fs.existsSync(emulatorBinary(n)));
  if (missing.length === 0) return;
  const script = path.join(emulatorsDir(), "install.sh");
  const r = childProcess.spawnSync("bash", [script, ...missing], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`emulator install failed (bash ${script} ${missing.join(" ")}, exit ${r.status ?? r.signal})`);
}

/** A port the OS just handed out for 127.0.0.1 (so parallel runs never collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tcpReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port: port });
    s.setTimeout(1000);
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
    s.once("timeout", () => { s.destroy(); resolve(false); });
  });
}

function httpReady(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode < 500);
    });
    req.once("error", () => resolve(false));
    req.once("timeout", () => { req.destroy(); resolve(false); });
  });
}

interface Running {
  child: childProcess.ChildProcess;
  output: string[];
  exited: boolean;
}

/** Shell watchdog: runs the emulator, and kills it when our end of its stdin closes. */
const WATCHDOG = 'exec 3<&0; "$@" </dev/null 3<&- & pid=$!; (cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null) & w=$!; ' +
  'wait $pid; rc=$?; kill $w 2>/dev/null; exit $rc';

export async function startEmulators(which: readonly EmulatorName[] = ALL_EMULATORS, options: StartOptions = {}): Promise<Emulators> {
  // gcs before bigquery: the BigQuery emulator reads gs:// load sources through STORAGE_EMULATOR_HOST.
  const names = ALL_EMULATORS.filter((n) => which.includes(n));
  ensureInstalled(names);
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const ports: Partial<Record<EmulatorName, number>> = {};
  const env: Record<string, string> = {};
  let bqGrpcPort = 0;
  let workDir: string | undefined;
  const running = new Map<EmulatorName, Running>();

  for (const n of names) ports[n] = await freePort();
  if (ports.pubsub) env.PUBSUB_EMULATOR_HOST = `127.0.0.1:${ports.pubsub}`;
  if (ports.bigtable) env.BIGTABLE_EMULATOR_HOST = `127.0.0.1:${ports.bigtable}`;
  if (ports.gcs) {
    // The Node client uses STORAGE_EMULATOR_HOST verbatim as its JSON API base URL but builds
    // upload URLs from apiEndpoint: pass API2LAKE_STORAGE_ENDPOINT as `apiEndpoint` too.
    env.API2LAKE_STORAGE_ENDPOINT = `http://127.0.0.1:${ports.gcs}`;
    env.STORAGE_EMULATOR_HOST = `${env.API2LAKE_STORAGE_ENDPOINT}/storage/v1`;
  }
  if (ports.bigquery) {
    env.API2LAKE_BIGQUERY_ENDPOINT = `http://127.0.0.1:${ports.bigquery}`;
    bqGrpcPort = await freePort();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-bq-"));
  }

  const argsFor = (n: EmulatorName): string[] => {
    const p = String(ports[n]);
    switch (n) {
      case "pubsub": return ["-port", p];
      case "bigtable": return ["-host", "127.0.0.1", "-port", p];
      case "gcs": return ["-scheme", "http", "-host", "127.0.0.1", "-port", p, "-backend", "memory",
        "-external-url", `http://127.0.0.1:${p}`, "-public-host", `127.0.0.1:${p}`, "-log-level", "error"];
      case "bigquery": return [`--project=${EMULATOR_PROJECT}`, "--host=127.0.0.1", `--port=${p}`,
        `--grpc-port=${bqGrpcPort}`, `--database=${path.join(workDir as string, "bq.db")}`, "--log-level=error"];
    }
  };

  const isReady = (n: EmulatorName): Promise<boolean> => {
    const port = ports[n] as number;
    if (n === "gcs") return httpReady(`http://127.0.0.1:${port}/storage/v1/b`);
    if (n === "bigquery") return httpReady(`http://127.0.0.1:${port}/bigquery/v2/projects/${EMULATOR_PROJECT}/datasets`);
    return tcpReady(port);
  };

  const start = async (n: EmulatorName): Promise<void> => {
    if (running.has(n)) return;
    const bin = emulatorBinary(n);
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    delete childEnv.BIGQUERY_EMULATOR_HOST;
    // The Go client wants the bare origin (it appends /storage/v1 itself).
    if (n === "bigquery" && env.API2LAKE_STORAGE_ENDPOINT) childEnv.STORAGE_EMULATOR_HOST = env.API2LAKE_STORAGE_ENDPOINT;
    const child = childProcess.spawn("sh", ["-c", WATCHDOG, "watchdog", bin, ...argsFor(n)], {
      detached: true, stdio: ["pipe", "pipe", "pipe"], env: childEnv,
    });
    const r: Running = { child: child, output: [], exited: false };
    const keep = (b: Buffer) => { r.output.push(b.toString()); if (r.output.length > 200) r.output.shift(); };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", () => { r.exited = true; });
    // Do not keep the test process alive on the emulator's account.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
    running.set(n, r);
    const deadline = Date.now() + readyTimeoutMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      if (r.exited || Date.now() > deadline) {
        kill(r);
        running.delete(n);
        const tail = r.output.join("").slice(-3000);
        throw new Error(`${n} emulator (${bin} on 127.0.0.1:${ports[n]}) ${r.exited ? `exited with ${r.child.exitCode ?? r.child.signalCode}` : `did not answer within ${readyTimeoutMs} ms`}; its output ends with:\n${tail || "(nothing)"}`);
      }
      if (await isReady(n)) return;
      await sleep(delay);
    }
  };

  const kill = (r: Running, signal: NodeJS.Signals = "SIGTERM") => {
    if (r.exited || r.child.pid === undefined) return;
    try { process.kill(-r.child.pid, signal); } catch { /* already gone */ }
  };

  const stopOne = async (n: EmulatorName): Promise<void> => {
    const r = running.get(n);
    if (!r) return;
    running.delete(n);
    if (!r.exited) {
      const gone = new Promise<void>((resolve) => r.child.once("exit", () => resolve()));
      kill(r);
      const timer = setTimeout(() => kill(r, "SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    }
    r.child.stdin?.destroy();
    // The port must be free before a restart may take it again.
    for (let i = 0; i < 100 && (await tcpReady(ports[n] as number)); i++) await sleep(50);
  };

  const onExit = () => { for (const r of running.values()) kill(r, "SIGKILL"); };
  process.once("exit", onExit);

  try {
    for (const n of names) await start(n);
  } catch (e) {
    onExit();
    throw e;
  }
  if (options.applyEnv ?? true) Object.assign(process.env, env);

  return {
    project: EMULATOR_PROJECT,
    env: env,
    ports: ports,
    start: start,
    stop: async (name?: EmulatorName) => {
      if (name) return stopOne(name);
      for (const n of [...running.keys()]) await stopOne(n);
      process.removeListener("exit", onExit);
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}
