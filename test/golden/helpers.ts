/**
 * Golden end-to-end helpers: run the real pipeline (executeRun) against the in-process demo API,
 * then read what landed. Expected values in the tests are computed from the demo API's
 * generators with separately written logic, or with SQL over the raw lake - never by calling
 * the transforms under test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { startDemoApi, type DemoSizes } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { executeRun } from "../../pipeline/run";
import { loadPreset } from "../../pipeline/presets";
import { loadSourceConfig } from "../../sources/rest/config-loader";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import type { RunManifest } from "../../pipeline/manifest";

export const SEED = 42;
export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const BIN = path.join(ROOT, "bin", "api2lake.js");

export type Row = Record<string, unknown>;

export interface GoldenRun {
  out: string;
  manifest: RunManifest;
}

/**
 * One batch run of a preset name or a YAML file, with a fresh demo API of the given sizes.
 * `edit` may rewrite the preset's YAML text first (the copy lands in a temp dir).
 */
export async function runGolden(config: string, sizes: Partial<DemoSizes>, opts: { from?: string; to?: string; edit?: (yaml: string) => string; entities?: string } = {}): Promise<GoldenRun> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `api2lake-golden-${path.basename(config, ".yaml")}-`));
  const api = await startDemoApi({ port: 0, seed: SEED, sizes: sizes });
  Object.assign(process.env, demoEnvironment(api.url));
  try {
    let source;
    if (opts.edit) {
      const text = opts.edit(fs.readFileSync(path.join(ROOT, "presets", `${config}.yaml`), "utf8"));
      const file = path.join(out, `${config}-custom.yaml`);
      fs.writeFileSync(file, text);
      source = loadSourceConfig(file);
    } else source = loadPreset(config);
    const manifest = await executeRun({
      sources: [source],
      entities: opts.entities ?? "ALL",
      from: opts.from,
      to: opts.to,
      options: { out: out, runner: "direct", sink: "local", requestConcurrency: 8 },
    });
    return { out: out, manifest: manifest };
  } finally {
    await api.close();
  }
}

export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Every NDJSON row under `<out>/lake/<layer>/<entity>/`. */
export function lakeRows(out: string, layer: "raw" | "processed" | "deadletter", entity: string): Row[] {
  return filesUnder(path.join(out, "lake", layer, entity))
    .filter((f) => f.endsWith(".ndjson"))
    .flatMap((f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim() !== ""))
    .map((l) => JSON.parse(l) as Row);
}

/** The glob of an entity's committed raw lake files, for DuckDB's read_json_auto. */
export function rawGlob(out: string, entity: string): string {
  return path.join(out, "lake", "raw", entity, "**", "*.ndjson").replace(/'/g, "''");
}

/** Runs SQL on the run's warehouse file (hub, dataproducts, lake tables, and read_json_auto over the lake). */
export async function sql(out: string, query: string): Promise<Row[]> {
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    return await warehouse.query(query);
  } finally {
    await warehouse.close();
  }
}

/** `api2lake <args>` as a child process (JSON lines on stdout). */
export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The manifest check rules all hold and the run succeeded. */
export function assertRunSucceeded(manifest: RunManifest): void {
  if (manifest.status !== "succeeded") throw new Error(`run ${manifest.run_id} ${manifest.status}: ${manifest.errors.join("; ")}`);
  const bad = manifest.checks.filter((c) => !c.ok);
  if (bad.length) throw new Error(`manifest checks failed: ${bad.map((c) => `${c.entity}: ${c.rule}`).join("; ")}`);
}

/** Calendar date (YYYY-MM-DD) of an instant in an IANA zone, via Intl (independent of luxon). */
export function dateInZone(epochMs: number, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(epochMs));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function sortBy<T>(rows: T[], key: (r: T) => string): T[] {
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
