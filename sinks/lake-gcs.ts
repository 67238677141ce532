import { Storage } from "@google-cloud/storage";
import type { Bucket } from "@google-cloud/storage";
import type { Lake, LakeShard } from "../model/backends";
import { shardPath } from "./lake-local";

/**
 * The lake in a Cloud Storage bucket, laid out exactly like the local one with the bucket in
 * place of `<out>`: `gs://<bucket>/lake/<layer>/<entity>/dt=YYYY-MM-DD/<runId>-<shard>.ndjson`,
 * and `runs/`, `state/` beside `lake/`.
 *
 * Visibility: shards are uploaded to `lake/_pending/<runId>/<path>` and `commit(runId)` copies
 * each one to its final name with `ifGenerationMatch: 0` (a final name is never overwritten)
 * and then deletes the pending object, so neither `list()` nor a `gs://.../*.ndjson` reader
 * ever takes a partial file as complete. A pending object may be overwritten by a retried
 * bundle writing the same shard; a commit repeated after a crash skips finals that already
 * hold the same bytes and fails if they hold different ones.
 * Shards above `resumableThresholdBytes` (5 MiB) go through a resumable upload, smaller ones
 * through one simple request. The client is created on first use, never captured.
 *
 * @example
 * const lake = new GcsLake({ bucket: "acme-lake", projectId: "acme" });
 * await lake.writeShard({ layer: "raw", entity: "customers", dt: "2026-01-15", runId: "r1", shard: "w0-0", rows: rows });
 * await lake.commit("r1");
 * await lake.list("raw/customers/"); // ["raw/customers/dt=2026-01-15/r1-w0-0.ndjson"]
 */
export interface GcsLakeOptions {
  bucket: string;
  projectId?: string;
  /**
   * Defaults to env `API2LAKE_STORAGE_ENDPOINT`, else the client's own. Against an emulator set
   * both that (`http://host:port`) and `STORAGE_EMULATOR_HOST` (`http://host:port/storage/v1`).
   */
  apiEndpoint?: string;
  /** Shards larger than this many bytes use a resumable upload (default 5 MiB). */
  resumableThresholdBytes?: number;
  /** Parallel copies during commit (default 32). */
  commitConcurrency?: number;
}

export const LAKE_DIR = "lake";
export const PENDING_DIR = "_pending";
export const DEFAULT_RESUMABLE_THRESHOLD = 5 * 1024 * 1024;

export class GcsLake implements Lake {
  readonly options: Readonly<GcsLakeOptions>;
  private bucketHandle: Bucket | undefined;

  constructor(options: GcsLakeOptions) {
    if (!options.bucket || /[/\s]/.test(options.bucket)) throw new Error(`GCS lake bucket must be a bucket name: ${JSON.stringify(options.bucket)}`);
    this.options = Object.freeze({ ...options });
  }

  /** `gs://<bucket>/<object>` of a path relative to the lake root. */
  uri(relativePath: string): string {
    return `gs://${this.options.bucket}/${LAKE_DIR}/${relativePath}`;
  }

  private get bucket(): Bucket {
    if (!this.bucketHandle) {
      const storage = new Storage({
        projectId: this.options.projectId,
        apiEndpoint: this.options.apiEndpoint ?? process.env.API2LAKE_STORAGE_ENDPOINT,
      });
      this.bucketHandle = storage.bucket(this.options.bucket);
    }
    return this.bucketHandle;
  }

  async writeShard(shard: LakeShard): Promise<string> {
    const rel = shardPath(shard);
    const chunks: string[] = [];
    for (const row of shard.rows) chunks.push(JSON.stringify(row), "\n");
    const body = Buffer.from(chunks.join(""), "utf8");
    const threshold = this.options.resumableThresholdBytes ?? DEFAULT_RESUMABLE_THRESHOLD;
    await this.bucket.file(`${pendingPrefix(shard.runId)}${rel}`).save(body, {
      resumable: body.length > threshold,
      contentType: "application/x-ndjson",
      validation: "crc32c",
    });
    return rel;
  }

  async commit(runId: string): Promise<void> {
    const prefix = pendingPrefix(runId);
    const pending = (await this.bucket.getFiles({ prefix: prefix, autoPaginate: true }))[0];
    // Which finals of this run exist already (a repeated commit): one listing per directory,
    // not one lookup per shard.
    const dirs = new Set(pending.map((f) => `${LAKE_DIR}/${f.name.slice(prefix.length, f.name.lastIndexOf("/") + 1)}${runId}-`));
    const existing = new Set<string>();
    await Promise.all([...dirs].map(async (d) => {
      for (const f of (await this.bucket.getFiles({ prefix: d, autoPaginate: true }))[0]) existing.add(f.name);
    }));
    const queue = pending.slice();
    const worker = async (): Promise<void> => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const finalName = `${LAKE_DIR}/${file.name.slice(prefix.length)}`;
        await this.publish(file.name, finalName, existing.has(finalName));
        await file.delete({ ignoreNotFound: true });
      }
    };
    const n = Math.max(1, Math.min(this.options.commitConcurrency ?? 32, queue.length));
    await Promise.all(Array.from({ length: n }, worker));
  }

  /** Copies a pending object to its final name unless that name exists (then it must hold the same bytes). */
  private async publish(from: string, to: string, exists: boolean): Promise<void> {
    const source = this.bucket.file(from);
    const target = this.bucket.file(to);
    // `exists` comes from a listing because some stores (fake-gcs-server) ignore preconditions on
    // copy; on GCS the precondition still closes the race between that listing and the copy.
    if (!exists) {
      try {
        await source.copy(target, { preconditionOpts: { ifGenerationMatch: 0 } });
        return;
      } catch (e) {
        if (errorCode(e) !== 412) throw new Error(`GCS lake: committing ${from} -> ${to} failed: ${(e as Error).message}`);
      }
    }
    const meta = await Promise.all([source.getMetadata(), target.getMetadata()]);
    if (meta[0][0].crc32c !== meta[1][0].crc32c)
      throw new Error(`GCS lake: ${this.options.bucket}/${to} already exists with different content; final names are never overwritten`);
  }

  async writeText(relativePath: string, text: string): Promise<void> {
    await this.bucket.file(besideLake(relativePath)).save(Buffer.from(text, "utf8"), {
      resumable: false,
      contentType: relativePath.endsWith(".json") ? "application/json" : "text/plain; charset=utf-8",
      validation: "crc32c",
    });
  }

  async readText(relativePath: string): Promise<string | undefined> {
    try {
      const got = await this.bucket.file(besideLake(relativePath)).download();
      return got[0].toString("utf8");
    } catch (e) {
      if (errorCode(e) === 404) return undefined;
      throw e;
    }
  }

  async readShard(objectPath: string): Promise<string> {
    const norm = objectPath.replace(/\\/g, "/");
    if (norm.startsWith("/") || norm.split("/").includes("..") || norm.startsWith(PENDING_DIR + "/"))
      throw new Error(`lake object path must be a committed path inside the lake: ${objectPath}`);
    const got = await this.bucket.file(`${LAKE_DIR}/${norm}`).download();
    return got[0].toString("utf8");
  }

  async list(prefix: string): Promise<string[]> {
    const norm = prefix.replace(/\\/g, "/").replace(/^\/+/, "");
    if (norm.split("/").includes("..")) throw new Error(`lake prefix must stay inside the lake: ${prefix}`);
    const files = (await this.bucket.getFiles({ prefix: `${LAKE_DIR}/${norm}`, autoPaginate: true }))[0];
    return files
      .map((f) => f.name.slice(LAKE_DIR.length + 1))
      .filter((name) => !name.startsWith(PENDING_DIR + "/") && !name.endsWith("/"))
      .sort();
  }
}

function pendingPrefix(runId: string): string {
  // shardPath validates runId for writes; commit gets the same check here.
  shardPath({ layer: "raw", entity: "x", dt: "2000-01-01", runId: runId, shard: "x" });
  return `${LAKE_DIR}/${PENDING_DIR}/${runId}/`;
}

function besideLake(relativePath: string): string {
  const norm = relativePath.replace(/\\/g, "/");
  if (norm.startsWith("/") || norm.split("/").some((p) => p === ".." || p === "." || p === "") || norm.startsWith(LAKE_DIR + "/"))
    throw new Error(`path must be relative, normalized and beside the lake (runs/..., state/...): ${relativePath}`);
  return norm;
}

function errorCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "number" ? code : typeof code === "string" && /^\d+$/.test(code) ? Number(code) : undefined;
}
