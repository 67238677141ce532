import * as fs from "fs";
import * as path from "path";
import * as crypto from "crypto";
import type { Lake, LakeShard } from "../model/backends";

/**
 * The lake on the local disk: `<out>/lake/<layer>/<entity>/dt=YYYY-MM-DD/<runId>-<shard>.ndjson`.
 * Shards are first written under `<out>/lake/_pending/<runId>/...` and moved into place by
 * `commit(runId)`, so a crashed run leaves nothing that `list()` (or a reader) takes as complete.
 * Manifests, logs and watermarks (`writeText`) live in `<out>/`, written atomically (tmp + rename).
 *
 * @example
 * const lake = new LocalLake("./out");
 * await lake.writeShard({ layer: "raw", entity: "customers", dt: "2026-01-15", runId: "r1", shard: "w0-0", rows: rows });
 * await lake.commit("r1");
 * await lake.list("raw/customers/"); // ["raw/customers/dt=2026-01-15/r1-w0-0.ndjson"]
 */
export class LocalLake implements Lake {
  readonly out: string;
  readonly root: string;

  constructor(out: string) {
    this.out = path.resolve(out);
    this.root = path.join(this.out, "lake");
  }

  async writeShard(shard: LakeShard): Promise<string> {
    const rel = shardPath(shard);
    const pending = path.join(this.pendingDir(shard.runId), rel);
    let text = "";
    for (const row of shard.rows) text += JSON.stringify(row) + "\n";
    await writeAtomically(pending, text);
    return rel;
  }

  async commit(runId: string): Promise<void> {
    checkSegment("runId", runId);
    const dir = this.pendingDir(runId);
    for (const rel of await walk(dir)) {
      const target = path.join(this.root, rel);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.rename(path.join(dir, rel), target);
    }
    await fs.promises.rm(dir, { recursive: true, force: true });
  }

  /** Run ids with pending (never committed) shards, e.g. of a run that was killed. */
  async pendingRuns(): Promise<string[]> {
    try {
      return (await fs.promises.readdir(path.join(this.root, PENDING), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  /** Removes a run's pending shards without publishing them (an orphaned run is rolled back). */
  async discard(runId: string): Promise<void> {
    checkSegment("runId", runId);
    await fs.promises.rm(this.pendingDir(runId), { recursive: true, force: true });
  }

  async writeText(relativePath: string, text: string): Promise<void> {
    await writeAtomically(this.besideLake(relativePath), text);
  }

  async readText(relativePath: string): Promise<string | undefined> {
    try {
      return await fs.promises.readFile(this.besideLake(relativePath), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const norm = prefix.replace(/\\/g, "/").replace(/^\/+/, "");
    if (norm.split("/").includes("..")) throw new Error(`lake prefix must stay inside the lake: ${prefix}`);
    // Walk from the deepest directory the prefix names completely.
    const dirPart = norm.includes("/") ? norm.slice(0, norm.lastIndexOf("/")) : "";
    const files = await walk(path.join(this.root, dirPart));
    return files
      .map((f) => (dirPart ? dirPart + "/" + f : f))
      .filter((f) => f.startsWith(norm) && !f.startsWith(PENDING + "/"))
      .sort();
  }

  async readShard(objectPath: string): Promise<string> {
    const norm = objectPath.replace(/\\/g, "/");
    if (norm.startsWith("/") || norm.split("/").includes("..") || norm.startsWith(PENDING + "/"))
      throw new Error(`lake object path must be a committed path inside the lake: ${objectPath}`);
    return fs.promises.readFile(path.join(this.root, norm), "utf8");
  }

  private pendingDir(runId: string): string {
    return path.join(this.root, PENDING, runId);
  }

  private besideLake(relativePath: string): string {
    const full = path.resolve(this.out, relativePath);
    if (!full.startsWith(this.out + path.sep) || path.isAbsolute(relativePath))
      throw new Error(`path must be relative and inside ${this.out}: ${relativePath}`);
    return full;
  }
}

const PENDING = "_pending";
const LAYERS = ["raw", "processed", "deadletter"];

/** `<layer>/<entity>/dt=<dt>/<runId>-<shard>.ndjson`, the same on GCS; throws on unsafe parts. */
export function shardPath(shard: Pick<LakeShard, "layer" | "entity" | "dt" | "runId" | "shard">): string {
  if (!LAYERS.includes(shard.layer)) throw new Error(`lake layer must be one of ${LAYERS.join(", ")}: ${JSON.stringify(shard.layer)}`);
  checkSegment("entity", shard.entity);
  checkSegment("runId", shard.runId);
  checkSegment("shard", shard.shard);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(shard.dt)) throw new Error(`lake dt must be YYYY-MM-DD: ${JSON.stringify(shard.dt)}`);
  return `${shard.layer}/${shard.entity}/dt=${shard.dt}/${shard.runId}-${shard.shard}.ndjson`;
}

function checkSegment(what: string, value: string): void {
  if (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.:=-]*$/.test(value) || value.includes(".."))
    throw new Error(`lake ${what} must be a plain name (letters, digits, _ . : = -): ${JSON.stringify(value)}`);
}

/** Writes `<file>` through a hidden temporary sibling and a rename: readers see all or nothing. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
  try {
    await fs.promises.writeFile(tmp, text, "utf8");
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Relative paths (with `/`) of the regular files under `dir`, skipping hidden temporaries; [] if absent. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (sub: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(path.join(dir, sub), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw e;
    }
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const rel = sub ? sub + "/" + e.name : e.name;
      if (e.isDirectory()) await visit(rel);
      else if (e.isFile()) out.push(rel);
    }
  };
  await visit("");
  return out;
}
