import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "./usage-error";

/**
 * One run at a time per `--out`: a run creates `<out>/run.lock` exclusively (O_CREAT|O_EXCL) before
 * anything else and removes it when it ends. The file says who holds it (run id, pid, host, start
 * time, UTC). A lock whose process is gone (same host, pid not alive) is taken over; any other
 * holder makes the second run fail at the start, before any fetching, with a message naming it.
 * Creating the lock also proves `--out` is writable, so an unwritable folder fails first too.
 */

export interface LockHolder {
  run_id: string;
  pid: number;
  host: string;
  /** ISO-8601 UTC. */
  started_at: string;
}

export interface OutLock {
  holder: LockHolder;
  /** Removes the lock if it is still ours (idempotent). */
  release(): void;
}

export const LOCK_FILE = "run.lock";

export function lockPath(out: string): string {
  return path.join(path.resolve(out), LOCK_FILE);
}

/** Who holds the lock on `out`, or undefined when nobody does (or the file is unreadable). */
export function readLockHolder(out: string): LockHolder | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath(out), "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

/** `run R (pid P on host H, since T)`: how messages name a holder. */
export function describeHolder(holder: LockHolder): string {
  return `run ${holder.run_id} (pid ${holder.pid} on host ${holder.host}, since ${holder.started_at})`;
}

/**
 * Takes the lock on `out` for `runId`.
 * @throws UsageError when `out` cannot be created or written (naming the reason, e.g. EACCES), or
 *   when a live process (or one on another host, which cannot be checked) holds the lock.
 */
export function acquireOutLock(out: string, runId: string, now: Date = new Date()): OutLock {
  const dir = path.resolve(out);
  const holder: LockHolder = { run_id: runId, pid: process.pid, host: os.hostname(), started_at: now.toISOString() };
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${dir} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath(dir), JSON.stringify(holder) + "\n", { flag: "wx" });
      return { holder: holder, release: () => releaseIfOurs(dir, holder) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") throw new UsageError(`--out ${dir} is not writable (${code ?? (error as Error).message})`);
    }
    const current = readLockHolder(dir);
    if (current && !isDead(current)) {
      throw new UsageError(
        `--out ${dir} is in use by ${describeHolder(current)}: wait for it to finish (or, if that process is gone, remove ${lockPath(dir)})`,
      );
    }
    // A crashed run's lock (its pid is gone on this host) or an unreadable half-written one: take it over.
    fs.rmSync(lockPath(dir), { force: true });
  }
  throw new UsageError(`--out ${dir}: another run took the lock at the same moment; try again`);
}

/** True when the holder ran on this host and its process no longer exists. */
function isDead(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function releaseIfOurs(dir: string, holder: LockHolder): void {
  const current = readLockHolder(dir);
  if (current && current.run_id === holder.run_id && current.pid === holder.pid) fs.rmSync(lockPath(dir), { force: true });
}
