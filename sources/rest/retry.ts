import type { ResponseAction } from "../../model/source-config";
import type { Clock, SourceGate } from "./rate-limit";
import { acquire, pauseGate, systemClock } from "./rate-limit";
import { isRateLimited, parseRetryAfter, quotaExhausted, waitFromHeaders, type HeaderWait } from "./rate-limit-headers";
import { describeAction, matchResponseAction } from "./response-actions";
import { decodeBody } from "./decode-body";
import { parseJson, type ParseOptions, type ParsedJson } from "./json-body";

/**
 * HTTP request (GET, or a POST read query such as GraphQL: retried alike) of a JSON page with retries, redirects,
 * rate-limit headers and response actions.
 *
 * Retried: 408, 429, 5xx, a 403 that announces a rate limit (`retry-after` or an exhausted
 * `x-ratelimit-remaining`), timeouts (`timeoutMs` covers the whole exchange, redirects and body
 * included), connection errors (resets, refused, closed mid-body), HTML or invalid JSON in a 2xx
 * (truncated bodies, gateways' error pages). Not retried: other 4xx (a wrong key or path will not
 * heal), a body that is not valid in its charset, too many redirects.
 *
 * Wait before attempt n+1: what the server asked (`waitFromHeaders`: Retry-After, ratelimit-reset,
 * x-ratelimit-reset), and that wait pauses every request of the same source (shared gate); a wait
 * longer than `maxWaitMs` (default 5 minutes) ends the series with a reason saying so instead of
 * parking a worker. Without such headers: full-jitter exponential backoff,
 * `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`. A 2xx with an exhausted quota header pauses
 * the gate until the announced reset (at most `maxWaitMs`) before the next request starts.
 *
 * Redirects (301, 302, 303, 307, 308) are followed here, at most `MAX_REDIRECTS` hops. Once a hop
 * leaves the first request's origin, every credential is dropped for the rest of the chain - the
 * auth headers, the auth query parameters and URL user info - as browsers and curl do (Fetch
 * standard 4.4 step 14; curl drops auth on a host change unless `--location-trusted`).
 *
 * Bodies are decoded by their declared charset (`decodeBody`) and parsed losslessly (`parseJson`).
 * Declared `actions` are consulted for every response before the rules above.
 */

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  /** Longest server-requested wait honoured (ms); default `DEFAULT_MAX_WAIT_MS`. */
  maxWaitMs?: number;
}

export const DEFAULT_MAX_WAIT_MS = 300_000;
/** Redirect hops followed per request (browsers allow 20, curl -L 50; an API needs one or two). */
export const MAX_REDIRECTS = 10;

export interface JsonRequest {
  url: URL;
  /** Default GET. */
  method?: "GET" | "POST";
  /** Request body text (POST); its content type is in `headers`. */
  body?: string;
  /** Credentials included: never log this object. */
  headers: Record<string, string>;
  /** Header names that carry credentials (any case): dropped when a redirect changes the origin. */
  credentialHeaders?: readonly string[];
  /** Query parameters that carry credentials: dropped when a redirect changes the origin. */
  credentialParams?: readonly string[];
  /** Response actions, first match wins. */
  actions?: readonly ResponseAction[];
  /** Depth bounds for the body parse; default a message-like body (`recordLevel` 1, `maxDepth` 64). */
  parse?: ParseOptions;
}

export type JsonOutcome =
  | {
    ok: true; status: number; headers: Record<string, string>; body: unknown; attempts: number;
    /** The parse (markers of non-finite tokens and deep containers); undefined for an empty body. */
    parsed?: ParsedJson;
    /** Set when a response action said `ignore`: the page is empty and this is why. */
    ignored?: string;
  }
  | {
    ok: false; status?: number; error: string; attempts: number; retryable: boolean;
    /** Why retrying stopped when it is not the attempt budget or a final status. */
    stopped?: string;
    /** The body's bytes when they could not be decoded (kept, not altered). */
    bodyBase64?: string;
  };

export interface RetryDeps {
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** Paces and bounds requests; absent means unlimited. */
  gate?: SourceGate;
  /** Told before a retry's wait (`ms` > 0; `rateLimited` when the API's headers set it) and after it (`ms` 0): progress display. */
  onWait?: (ms: number, rateLimited: boolean, reason: string) => void;
}

export { parseRetryAfter };

/** Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

function isRetryableStatus(status: number, headers: Record<string, string>): boolean {
  return status === 408 || isRateLimited(status, headers) || (status >= 500 && status <= 599);
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

/** The first characters of a body, on one line, for reasons. */
function snippet(text: string | undefined): string {
  if (!text) return "";
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

type Attempt =
  | { kind: "ok"; status: number; headers: Record<string, string>; body: unknown; parsed?: ParsedJson; ignored?: string; pause?: HeaderWait }
  | { kind: "fail"; status?: number; error: string; retryable: boolean; wait?: HeaderWait; bodyBase64?: string };

const REDIRECTS = [301, 302, 303, 307, 308];

/** A copy of the request's headers without credentials (a redirect left the origin). */
function withoutCredentials(request: JsonRequest, headers: Record<string, string>): Record<string, string> {
  const drop = new Set((request.credentialHeaders ?? []).map((h) => h.toLowerCase()));
  drop.add("authorization").add("proxy-authorization").add("cookie");
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!drop.has(name.toLowerCase())) kept[name] = value;
  return kept;
}

/** A copy of `url` without the credential query parameters and user info. */
function stripParams(url: URL, request: JsonRequest): URL {
  const out = new URL(url.href);
  for (const name of request.credentialParams ?? []) out.searchParams.delete(name);
  out.username = "";
  out.password = "";
  return out;
}

async function attemptOnce(request: JsonRequest, policy: RetryPolicy, fetchFn: typeof fetch, nowMs: () => number): Promise<Attempt> {
  let response: Response;
  let bytes: Uint8Array;
  try {
    const signal = AbortSignal.timeout(policy.timeoutMs);
    let url = request.url;
    let headers = request.headers;
    let method = request.method ?? "GET";
    let body = request.body;
    let foreign = false;
    for (let hop = 0; ; hop++) {
      response = await fetchFn(url, { method: method, headers: headers, body: body, signal: signal, redirect: "manual" });
      const location = response.headers.get("location");
      if (!REDIRECTS.includes(response.status) || location === null) break;
      await response.arrayBuffer();
      if (hop === MAX_REDIRECTS) return { kind: "fail", status: response.status, error: `more than ${MAX_REDIRECTS} redirects`, retryable: false };
      const next = new URL(location, url);
      // 303, and 301/302 after a POST, continue as a GET without the body (Fetch standard 4.4 step 12).
      if (response.status === 303 || (method === "POST" && (response.status === 301 || response.status === 302))) {
        method = "GET";
        body = undefined;
      }
      if (!foreign && next.origin !== request.url.origin) {
        foreign = true;
        headers = withoutCredentials(request, headers);
      }
      url = foreign ? stripParams(next, request) : next;
    }
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    return { kind: "fail", error: describeFetchError(error, policy.timeoutMs), retryable: true };
  }
  const status = response.status;
  const headers = headerRecord(response.headers);
  const decoded = decodeBody(bytes, headers["content-type"]);
  const text = decoded.ok ? decoded.text : undefined;
  const action = matchResponseAction(request.actions ?? [], { status: status, headers: headers, text: text });
  if (action) {
    const what = `${describeAction(action)} (HTTP ${status})`;
    if (action.action === "ignore") return { kind: "ok", status: status, headers: headers, body: null, ignored: what };
    const wait = action.action === "retry" ? waitFromHeaders(headers, nowMs()) : undefined;
    return { kind: "fail", status: status, error: text ? `${what}: ${snippet(text)}` : what, retryable: action.action === "retry", wait: wait };
  }
  if (status < 200 || status > 299) {
    const limited = isRateLimited(status, headers);
    const error = `HTTP ${status}${limited ? " rate limited" : ""}${text ? `: ${snippet(text)}` : ""}`;
    return { kind: "fail", status: status, error: error, retryable: isRetryableStatus(status, headers), wait: limited || status === 503 ? waitFromHeaders(headers, nowMs()) : undefined };
  }
  const pause = quotaExhausted(headers) ? waitFromHeaders(headers, nowMs()) : undefined;
  if (!decoded.ok) {
    return { kind: "fail", status: status, error: decoded.reason, retryable: false, bodyBase64: Buffer.from(bytes).toString("base64") };
  }
  // An empty body is an empty page only when the server said so (204, Content-Length: 0); otherwise it
  // was cut off and is retried as invalid JSON below.
  if (status === 204 || (decoded.text.trim() === "" && headers["content-length"] === "0")) return { kind: "ok", status: status, headers: headers, body: null, pause: pause };
  const type = headers["content-type"] ?? "";
  if (/html/i.test(type) || /^\s*</.test(decoded.text)) {
    return { kind: "fail", status: status, error: `body is HTML, not JSON (content-type ${type || "none"}, ${bytes.length} bytes): ${snippet(decoded.text)}`, retryable: true };
  }
  const parsed = parseJson(decoded.text, request.parse ?? { recordLevel: 1, maxDepth: 64 });
  if (!parsed.ok) return { kind: "fail", status: status, error: `invalid JSON body (${bytes.length} bytes): ${parsed.reason}`, retryable: true };
  return { kind: "ok", status: status, headers: headers, body: parsed.value, parsed: parsed, pause: pause };
}

/** Sends the request (GET, or POST with its body) for a JSON body, retrying as described above; never throws for HTTP or network trouble. */
export async function getJsonWithRetry(request: JsonRequest, policy: RetryPolicy, deps: RetryDeps = {}): Promise<JsonOutcome> {
  const fetchFn = deps.fetch ?? fetch;
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const maxWaitMs = policy.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  let last: Attempt = { kind: "fail", error: "not attempted", retryable: false };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const release = deps.gate ? await acquire(deps.gate, clock) : () => undefined;
    try {
      last = await attemptOnce(request, policy, fetchFn, () => clock.now());
    } finally {
      release();
    }
    if (last.kind === "ok") {
      if (last.pause && deps.gate) pauseGate(deps.gate, clock.now() + Math.min(last.pause.ms, maxWaitMs));
      return { ok: true, status: last.status, headers: last.headers, body: last.body, parsed: last.parsed, ignored: last.ignored, attempts: attempt };
    }
    const failed = { ok: false as const, status: last.status, error: last.error, attempts: attempt, retryable: last.retryable, bodyBase64: last.bodyBase64 };
    if (!last.retryable || attempt === policy.maxAttempts) return failed;
    if (last.wait && last.wait.ms > maxWaitMs) {
      return { ...failed, stopped: `rate-limit wait exceeded: ${last.wait.header} asks for ${last.wait.ms} ms, more than retry.maxWaitMs ${maxWaitMs} ms` };
    }
    const wait = last.wait ? last.wait.ms : backoffDelay(attempt, policy, random);
    if (last.wait && deps.gate) pauseGate(deps.gate, clock.now() + wait);
    if (deps.onWait) deps.onWait(wait, last.wait !== undefined, last.error);
    await clock.sleep(wait);
    if (deps.onWait) deps.onWait(0, last.wait !== undefined, last.error);
  }
  return { ok: false, status: last.kind === "fail" ? last.status : undefined, error: last.kind === "fail" ? last.error : "", attempts: policy.maxAttempts, retryable: true };
}
