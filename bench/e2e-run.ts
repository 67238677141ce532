// End-to-end benchmark of the real `run` path against its seed-style Python peer, in one command:
// N commerce customers (bench/customer-records.ts) served 1,000 per page by a local API
// (bench/customers-api.ts, a child process on 127.0.0.1), then
//   1. `node bin/api2lake.js run --config <generated yaml> --out <tmp>` (direct runner, local sinks);
//   2. bench/seed_customers.py (requests + phonenumbers + duckdb, sequential), in a venv the bench
//      installs from PyPI with pinned versions under ~/.cache/api2lake/bench-venv-<key>/.
// Each is measured as a child process (bench/measure_child.py: wall time, CPU time, getrusage peak
// RSS). Prints wall, records/s, CPU and peak RSS for both and their ratios, then checks that both kept the same
// number of customers and the same set of E.164 phones (exit 1 when they differ).
//
//   node scripts/build.js && npm run bench:e2e -- [--records 100000]
import * as child_process from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCustomersApi } from "./customers-api";
import { CUSTOMERS_ENTITY } from "./customer-records";

/** PyPI pins of the peer script; a change makes a new venv (the key hashes them with the Python version). */
const PYTHON_PINS = ["requests==2.34.2", "phonenumbers==9.0.43", "duckdb==2.0.0"];
const PAGE_SIZE = 1000;
const REPO = path.resolve(__dirname, "..", "..");

interface Measured {
  wallS: number;
  /** User + system CPU seconds of the child and its descendants. */
  cpuS: number;
  peakRssMb: number;
  stdout: string;
}

interface Outcome {
  kept: number;
  phones: Set<string>;
}

/** `--records N` (default 100,000); any other argument is a usage error. */
export function parseArgs(argv: readonly string[]): { records: number } {
  let records = 100_000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--records" && /^[1-9][0-9]*$/.test(argv[i + 1] ?? "")) records = Number(argv[++i]);
    else throw new Error(`usage: e2e-run [--records N]; got ${JSON.stringify(argv[i])}`);
  }
  return { records: records };
}

/** The venv of the peer, created and filled once per (Python version, pins); returns its python. */
function ensureVenv(): string {
  const version = child_process.execFileSync("python3", ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" }).trim();
  const key = crypto.createHash("sha256").update(version + "\n" + PYTHON_PINS.join("\n")).digest("hex").slice(0, 12);
  const dir = path.join(os.homedir(), ".cache", "api2lake", `bench-venv-py${version}-${key}`);
  const python = path.join(dir, "bin", "python");
  const ready = path.join(dir, ".installed");
  if (!fs.existsSync(ready)) {
    console.log(`installing the peer's venv in ${dir} (${PYTHON_PINS.join(", ")})`);
    fs.rmSync(dir, { recursive: true, force: true });
    child_process.execFileSync("python3", ["-m", "venv", dir], { stdio: "inherit" });
    child_process.execFileSync(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...PYTHON_PINS], { stdio: "inherit" });
    fs.writeFileSync(ready, PYTHON_PINS.join("\n") + "\n");
  }
  return python;
}

/** Runs `command` under bench/measure_child.py; throws with its stderr when it fails. */
function measure(python: string, command: string[]): Measured {
  const result = child_process.spawnSync(python, [path.join(REPO, "bench", "measure_child.py"), ...command], { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const lines = result.stderr.trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1]) as { code: number; wall_s: number; cpu_s: number; peak_rss_kib: number };
  if (last.code !== 0) throw new Error(`${command.join(" ")} exited with ${last.code}:\n${result.stdout}\n${result.stderr}`);
  return { wallS: last.wall_s, cpuS: last.cpu_s, peakRssMb: last.peak_rss_kib / 1024, stdout: result.stdout };
}

function ndjsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? ndjsonFiles(full) : e.name.endsWith(".ndjson") ? [full] : [];
  });
}

/** Kept customers and their E.164 phones from api2lake's processed lake layer. */
function readApi2lake(out: string): Outcome {
  let kept = 0;
  const phones = new Set<string>();
  for (const file of ndjsonFiles(path.join(out, "lake", "processed", "customers"))) {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      if (line === "") continue;
      kept++;
      const e164 = (JSON.parse(line) as { phone_e164: string | null }).phone_e164;
      if (e164 !== null) phones.add(e164);
    }
  }
  return { kept: kept, phones: phones };
}

/** The elements of `a` missing from `b`, up to `limit`. */
function missing(a: Set<string>, b: Set<string>, limit: number): string[] {
  const out: string[] = [];
  for (const x of a) if (!b.has(x) && out.push(x) >= limit) break;
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const n = args.records;
  const python = ensureVenv();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-e2e-"));
  const api = await startCustomersApi(n);
  try {
    const config = {
      name: "bench",
      baseUrl: api.url,
      paginator: { type: "page_number", pageParam: "page", sizeParam: "per_page", size: PAGE_SIZE, hasMorePath: "has_more" },
      entities: { customers: CUSTOMERS_ENTITY },
    };
    const configFile = path.join(work, "bench.yaml");
    // JSON is YAML: the config loader reads it as written.
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    const out = path.join(work, "api2lake-out");
    console.log(`records: ${n} (${Math.ceil(n / PAGE_SIZE)} pages of ${PAGE_SIZE}), API ${api.url}, work dir ${work}`);
    const ours = measure(python, [process.execPath, "bin/api2lake.js", "run", "--config", configFile, "--out", out]);
    const ourOutcome = readApi2lake(out);
    const peerOut = path.join(work, "seed-out");
    const peer = measure(python, [python, path.join(REPO, "bench", "seed_customers.py"), api.url, String(PAGE_SIZE), peerOut]);
    const peerSummary = JSON.parse(peer.stdout.trim().split("\n").pop() as string) as { kept: number; failed: number; duplicates: number; phones_file: string };
    const peerPhones = new Set(fs.readFileSync(peerSummary.phones_file, "utf8").split("\n").filter((l) => l !== ""));

    const row = (label: string, m: Measured) => `${label.padEnd(34)} ${m.wallS.toFixed(1).padStart(8)} ${Math.round(n / m.wallS).toString().padStart(10)} ${m.cpuS.toFixed(1).padStart(8)} ${Math.round(n / m.cpuS).toString().padStart(12)} ${Math.round(m.peakRssMb).toString().padStart(8)}`;
    console.log(`${"".padEnd(34)} ${"wall s".padStart(8)} ${"records/s".padStart(10)} ${"CPU s".padStart(8)} ${"rec/CPU-s".padStart(12)} ${"peak MB".padStart(8)}`);
    console.log(row("api2lake run (direct, local sinks)", ours));
    console.log(row("seed-style Python script", peer));
    console.log(`api2lake/peer: throughput ${(peer.wallS / ours.wallS).toFixed(2)}x (wall), ${(peer.cpuS / ours.cpuS).toFixed(2)}x (per CPU second), peak RSS ${(ours.peakRssMb / peer.peakRssMb).toFixed(2)}x`);
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} (${os.cpus().length} cores)`);
    console.log(`kept customers: api2lake ${ourOutcome.kept}, peer ${peerSummary.kept} (peer failed ${peerSummary.failed}, duplicates ${peerSummary.duplicates})`);
    console.log(`distinct E.164 phones: api2lake ${ourOutcome.phones.size}, peer ${peerPhones.size}`);
    const onlyOurs = missing(ourOutcome.phones, peerPhones, 5);
    const onlyPeer = missing(peerPhones, ourOutcome.phones, 5);
    if (ourOutcome.kept !== peerSummary.kept || onlyOurs.length || onlyPeer.length) {
      console.error(`MISMATCH: only api2lake ${JSON.stringify(onlyOurs)}, only peer ${JSON.stringify(onlyPeer)}`);
      process.exitCode = 1;
    } else {
      console.log("same customers count and same E.164 phone set: OK");
      fs.rmSync(work, { recursive: true, force: true });
    }
  } finally {
    await api.close();
  }
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
