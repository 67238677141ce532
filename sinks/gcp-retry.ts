/**
 * Bounded retries and timeouts for the Google Cloud backends: nothing waits or retries forever.
 *
 * @example
 * await retrying("insertAll into lake.sales", () => table.insert(rows), { maxAttempts: 4, timeoutMs: 60_000 });
 */
export interface RetryOptions {
  /** Total attempts, the first included (default 4). */
  maxAttempts?: number;
  /** Ceiling for each attempt (default 120 s). */
  timeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors earn another attempt (default `isTransient`). */
  retryIf?: (e: unknown) => boolean;
}

const TRANSIENT_CODES = new Set([408, 429, 500, 502, 503, 504]);
/** gRPC: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const TRANSIENT_GRPC = new Set([4, 8, 10, 13, 14]);
const TRANSIENT_REASONS = new Set(["backendError", "rateLimitExceeded", "internalError", "jobBackendError", "jobInternalError"]);
const TRANSIENT_NET = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|network|No connection established|timed out/i;

/** True for errors worth another attempt: throttling, 5xx, gRPC UNAVAILABLE and the like, dropped connections. */
export function isTransient(e: unknown): boolean {
  const err = e as { code?: unknown; reason?: unknown; message?: unknown; errors?: { reason?: unknown }[] };
  if (typeof err?.code === "number" && (TRANSIENT_CODES.has(err.code) || (err.code < 20 && TRANSIENT_GRPC.has(err.code)))) return true;
  if (typeof err?.code === "string" && TRANSIENT_NET.test(err.code)) return true;
  if (typeof err?.reason === "string" && TRANSIENT_REASONS.has(err.reason)) return true;
  if (Array.isArray(err?.errors) && err.errors.some((x) => typeof x?.reason === "string" && TRANSIENT_REASONS.has(x.reason))) return true;
  return typeof err?.message === "string" && TRANSIENT_NET.test(err.message);
}

/** A connection-level failure (no HTTP answer): refused, reset, timed out. */
export function isNetworkError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  if (typeof err?.code === "string" && TRANSIENT_NET.test(err.code)) return true;
  if (typeof err?.code === "number") return false;
  return typeof err?.message === "string" && TRANSIENT_NET.test(err.message);
}

export class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";
}

/** Rejects with a TimeoutError after `ms` (the operation itself is not cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn` until it succeeds, a non-transient error occurs, or the attempts run out; the last error names what failed. */
export async function retrying<T>(what: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.maxAttempts ?? 4);
  const timeoutMs = options.timeoutMs ?? 120_000;
  let delay = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(fn(), timeoutMs, what);
    } catch (e) {
      if (attempt >= attempts || !(options.retryIf ?? isTransient)(e)) {
        const msg = (e as Error)?.message ?? String(e);
        const wrapped = new Error(`${what} failed after ${attempt} attempt(s): ${msg}`);
        (wrapped as Error & { cause?: unknown }).cause = e;
        throw wrapped;
      }
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
    }
  }
}
