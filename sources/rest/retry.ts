import type { Clock, SourceGate } from "./rate-limit";
import { acquire, pauseGate, systemClock } from "./rate-limit";

/**
 * HTTP GET of a JSON page with retries.
 *
 * Retried: 408, 429, every 5xx, timeouts (`timeoutMs` covers the whole exchange, body
 * included), connection errors (resets, refused, closed mid-body) and 2xx bodies that are
 * not valid JSON (truncated). Not retried: other 4xx (a wrong key or path will not heal).
 *
 * Wait before attempt n+1: exponential backoff with full jitter,
 * `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`. When the response carries
 * `Retry-After` (integer seconds, fractional seconds such as Samsara's `0.40235`, or an
 * HTTP date) the wait is exactly what the server asked, capped at `maxDelayMs`: the cap
 * bounds every single wait so a far-future date cannot park a worker for hours; the attempt
 * budget then decides. A `Retry-After` also pauses every other request of the same source
 * (shared gate) for that long.
 */

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export interface JsonRequest {
  url: URL;
  /** Credentials included: never log this object. */
  headers: Record<string, string>;
}

export type JsonOutcome =
  | { ok: true; status: number; headers: Record<string, string>; body: unknown; attempts: number }
  | { ok: false; status?: number; error: string; attempts: number; retryable: boolean };

export interface RetryDeps {
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** Paces and bounds requests; absent means unlimited. */
  gate?: SourceGate;
}

/** Milliseconds to wait from a `Retry-After` value, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

/** A short reason for a thrown fetch error: timeout, or the network error and its code. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e && (e.name === "TimeoutError" || e.name === "AbortError")) return `timeout after ${timeoutMs} ms`;
  const cause = e && e.cause ? e.cause.code ?? e.cause.message : undefined;
  const message = e && e.message ? e.message : String(error);
  return cause ? `${message} (${cause})` : message;
}

type Attempt =
  | { kind: "ok"; status: number; headers: Record<string, string>; body: unknown }
  | { kind: "fail"; status?: number; error: string; retryable: boolean; waitMs?: number };

async function attemptOnce(request: JsonRequest, policy: RetryPolicy, fetchFn: typeof fetch, nowMs: () => number): Promise<Attempt> {
  let response: Response;
  let text: string;
  try {
    const signal = AbortSignal.timeout(policy.timeoutMs);
    response = await fetchFn(request.url, { method: "GET", headers: request.headers, signal: signal, redirect: "follow" });
    text = await response.text();
  } catch (error) {
    return { kind: "fail", error: describeFetchError(error, policy.timeoutMs), retryable: true };
  }
  const status = response.status;
  if (status < 200 || status > 299) {
    const waitMs = parseRetryAfter(response.headers.get("retry-after"), nowMs());
    return { kind: "fail", status: status, error: `HTTP ${status}`, retryable: isRetryableStatus(status), waitMs: waitMs };
  }
  if (status === 204 || (text.trim() === "" && response.headers.get("content-length") === "0")) {
    return { kind: "ok", status: status, headers: headerRecord(response.headers), body: null };
  }
  try {
    return { kind: "ok", status: status, headers: headerRecord(response.headers), body: JSON.parse(text) };
  } catch (error) {
    return { kind: "fail", status: status, error: `invalid JSON body (${text.length} bytes): ${(error as Error).message}`, retryable: true };
  }
}

/** GETs a JSON body, retrying as described above; never throws for HTTP or network trouble. */
export async function getJsonWithRetry(request: JsonRequest, policy: RetryPolicy, deps: RetryDeps = {}): Promise<JsonOutcome> {
  const fetchFn = deps.fetch ?? fetch;
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  let last: Attempt = { kind: "fail", error: "not attempted", retryable: false };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const release = deps.gate ? await acquire(deps.gate, clock) : () => undefined;
    try {
      last = await attemptOnce(request, policy, fetchFn, () => clock.now());
    } finally {
      release();
    }
    if (last.kind === "ok") return { ok: true, status: last.status, headers: last.headers, body: last.body, attempts: attempt };
    if (!last.retryable || attempt === policy.maxAttempts) {
      return { ok: false, status: last.status, error: last.error, attempts: attempt, retryable: last.retryable };
    }
    const wait = last.waitMs !== undefined ? Math.min(last.waitMs, policy.maxDelayMs) : backoffDelay(attempt, policy, random);
    if (last.waitMs !== undefined && deps.gate) pauseGate(deps.gate, clock.now() + wait);
    await clock.sleep(wait);
  }
  const failed = last as Extract<Attempt, { kind: "fail" }>;
  return { ok: false, status: failed.status, error: failed.error, attempts: policy.maxAttempts, retryable: failed.retryable };
}
