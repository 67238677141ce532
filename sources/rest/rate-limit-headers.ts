/**
 * How long a server asks us to wait, read from its response headers (lower-cased names).
 *
 * Read, first match wins:
 *  - `retry-after` (RFC 9110 10.2.3): delay seconds (fractions accepted, e.g. Samsara's `0.40235`) or
 *    an HTTP date.
 *  - `ratelimit-reset` (IETF draft-ietf-httpapi-ratelimit-headers): seconds until the window resets.
 *  - `x-ratelimit-reset`: GitHub and Twitter send epoch seconds, others (e.g. Discord-like APIs)
 *    seconds to wait. Decided by magnitude: values >= 1,000,000,000 (2001-09-09 as epoch seconds, or
 *    31 years as a delay) are epoch seconds, smaller ones are seconds to wait.
 * A wait in the past is 0 ms.
 */

export interface HeaderWait {
  /** Milliseconds to wait from `nowMs`. */
  ms: number;
  /** The header that said so, for reasons and logs. */
  header: string;
}

/** Values at or above this are epoch seconds in `x-ratelimit-reset`, below it seconds to wait. */
export const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

const SECONDS = /^\d+(\.\d+)?$/;

/** Milliseconds to wait from a `Retry-After` value, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (SECONDS.test(text)) return Math.ceil(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Milliseconds to wait from an `x-ratelimit-reset` value (epoch or delay seconds, by magnitude). */
export function parseResetSeconds(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || !SECONDS.test(value.trim())) return undefined;
  const seconds = Number(value.trim());
  if (seconds >= EPOCH_SECONDS_THRESHOLD) return Math.max(0, Math.ceil(seconds * 1000 - nowMs));
  return Math.ceil(seconds * 1000);
}

/** The wait the headers ask for, or undefined when they name none. */
export function waitFromHeaders(headers: Record<string, string>, nowMs: number): HeaderWait | undefined {
  const retryAfter = parseRetryAfter(headers["retry-after"], nowMs);
  if (retryAfter !== undefined) return { ms: retryAfter, header: "retry-after" };
  const draft = headers["ratelimit-reset"];
  if (draft !== undefined && SECONDS.test(draft.trim())) return { ms: Math.ceil(Number(draft.trim()) * 1000), header: "ratelimit-reset" };
  const reset = parseResetSeconds(headers["x-ratelimit-reset"], nowMs);
  if (reset !== undefined) return { ms: reset, header: "x-ratelimit-reset" };
  return undefined;
}

/** True when the headers say the quota is used up (`x-ratelimit-remaining: 0` or `ratelimit-remaining: 0`). */
export function quotaExhausted(headers: Record<string, string>): boolean {
  return ["x-ratelimit-remaining", "ratelimit-remaining"].some((name) => headers[name] !== undefined && headers[name].trim() === "0");
}

/**
 * True when a 403 or 429 is a rate limit: 429 always (RFC 6585 4); 403 only when it carries
 * `retry-after` or an exhausted quota header (GitHub answers rate limits with 403).
 */
export function isRateLimited(status: number, headers: Record<string, string>): boolean {
  if (status === 429) return true;
  return status === 403 && (headers["retry-after"] !== undefined || quotaExhausted(headers));
}
