import * as os from "os";
import type { File } from "@google-cloud/storage";
import { describeHolder, type LockHolder } from "./out-lock";
import { UsageError } from "./usage-error";

/**
 * One run at a time per bucket (`--sink gcp`), the twin of the local `<out>/run.lock`: a run
 * creates the object `gs://<bucket>/lake/state/run.lock` (beside the watermarks) with the
 * precondition `ifGenerationMatch: 0`, so the create fails when the object exists (Cloud Storage
 * request preconditions; fake-gcs-server honours them too, answering 412). The object holds
 * `{run_id, pid, host, started_at}` (UTC). A second run fails at the start naming the holder.
 * A lock is taken over, with a message, when its holder ran on this host and its pid is gone (a
 * killed or aborted run), or when it is older than `staleAfterMs` (a run elsewhere that died).
 * Release deletes the object only while it is still the generation this run created.
 */
export const BUCKET_LOCK_OBJECT = "lake/state/run.lock";

/** Default age (6 h, in ms) after which another run may take a lock over. */
export const DEFAULT_LOCK_STALE_MS = 6 * 60 * 60 * 1000;

export interface BucketLock {
  holder: LockHolder;
  /** Deletes the lock if it is still ours; never throws (a failed delete is left to staleness). */
  release(): Promise<void>;
}

export interface BucketLockOptions {
  project: string;
  bucket: string;
  runId: string;
  /** The run's start; also the clock the staleness is measured against. */
  now?: Date;
  staleAfterMs?: number;
  /** Where takeovers are reported (default stderr). */
  log?: (line: string) => void;
}

/** The lock object of a bucket, through the client the lake uses (emulator: API2LAKE_STORAGE_ENDPOINT). */
export function bucketLockFile(project: string, bucket: string): File {
  // Required here, not at the top: only `--sink gcp` takes a bucket lock, and a local run must not load the client.
  const cloudStorage = require("@google-cloud/storage") as typeof import("@google-cloud/storage");
  const storage = new cloudStorage.Storage({ projectId: project, apiEndpoint: process.env.API2LAKE_STORAGE_ENDPOINT });
  return storage.bucket(bucket).file(BUCKET_LOCK_OBJECT);
}

/**
 * Takes the lock of `options.bucket` for `options.runId`.
 * @throws UsageError naming the holder (`run R (pid P on host H, since T)`) when a live, fresh
 *   lock exists; any other storage error propagates (the caller has checked the bucket exists).
 */
export async function acquireBucketLock(options: BucketLockOptions): Promise<BucketLock> {
  const now = options.now ?? new Date();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS;
  const log = options.log ?? ((line: string) => console.error(line));
  const holder: LockHolder = { run_id: options.runId, pid: process.pid, host: os.hostname(), started_at: now.toISOString() };
  const file = bucketLockFile(options.project, options.bucket);
  const where = `gs://${options.bucket}/${BUCKET_LOCK_OBJECT}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await file.save(JSON.stringify(holder) + "\n", { resumable: false, contentType: "application/json", preconditionOpts: { ifGenerationMatch: 0 } });
      const generation = String((await file.getMetadata())[0].generation);
      return { holder: holder, release: () => releaseIfOurs(file, generation) };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 412) throw error;
    }
    const current = await readHolder(file);
    if (!current) continue; // released between our create and our read: try once more
    const reason = takeoverReason(current.holder, now, staleAfterMs);
    if (!reason) {
      throw new UsageError(
        `--bucket ${options.bucket} is in use by ${describeHolder(current.holder)}: wait for it to finish ` +
          `(or, if that run is gone, delete ${where}; locks older than ${staleAfterMs / 3_600_000} h are taken over)`,
      );
    }
    log(`api2lake: taking over ${where} from ${describeHolder(current.holder)}: ${reason}`);
    // Only the generation we read: a run that took it over meanwhile keeps its lock (412, then we fail above).
    await file.delete({ ifGenerationMatch: current.generation } as never).catch((error: { code?: unknown }) => {
      if (error.code !== 412 && error.code !== 404) throw error;
    });
  }
  throw new UsageError(`--bucket ${options.bucket}: another run took ${where} at the same moment; try again`);
}

/**
 * Why a lock may be taken over, or undefined when it may not: its holder ran on this host and its
 * pid no longer exists, or it started more than `staleAfterMs` before `now` (an unparsable start
 * counts as stale: nobody can say it is alive).
 */
export function takeoverReason(holder: LockHolder, now: Date, staleAfterMs: number): string | undefined {
  if (holder.host === os.hostname() && !pidAlive(holder.pid)) return `its process ${holder.pid} on this host is gone`;
  const age = now.getTime() - Date.parse(holder.started_at);
  if (!(age <= staleAfterMs)) return `it is older than ${staleAfterMs / 3_600_000} h`;
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** The lock's holder and generation, or undefined when there is no lock object. */
async function readHolder(file: File): Promise<{ holder: LockHolder; generation: string } | undefined> {
  try {
    const meta = (await file.getMetadata())[0];
    const body = (await file.download({ generation: meta.generation } as never))[0].toString("utf8");
    let holder: LockHolder;
    try {
      holder = JSON.parse(body) as LockHolder;
    } catch {
      // A lock nobody can read names no live holder: stale.
      holder = { run_id: "unknown", pid: 0, host: "unknown", started_at: "unknown" };
    }
    return { holder: holder, generation: String(meta.generation) };
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return undefined;
    throw error;
  }
}

async function releaseIfOurs(file: File, generation: string): Promise<void> {
  await file.delete({ ifGenerationMatch: generation } as never).catch(() => undefined);
}
