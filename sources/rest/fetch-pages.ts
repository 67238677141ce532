import { deadLetter, type DeadLetter } from "../../model/dead-letter";
import type { EntityConfig, SourceConfig } from "../../model/source-config";
import {
  createAuthenticator, oauth2StoreKey, redact, redactDeep, secretsOf, variants, type OutgoingRequest, type Secrets,
} from "./auth/index";
import { getPath, isJsonPath, jsonPathSteps, queryJsonPath, setPath } from "./json-path";
import { mergeSecrets, resolveAuthSecrets, resolveHeaderSecrets } from "./secrets";
import { stopRequested } from "./stop";
import { createPaginator } from "./paginators/index";
import { gateFor, systemClock, type Clock } from "./rate-limit";
import { getJsonWithRetry, type JsonRequest } from "./retry";
import { DEFAULT_MAX_DEPTH, originalText, takeMarkers } from "./json-body";
import { sliceParams, type Slice } from "./slices";
import { cursorParamText, descPageReachedStart, type CursorValue } from "./cursor";
import { entityForParent, type ParentRef } from "./parent-child";
import { emitProgress } from "../../model/progress-events";
import { isRequestReference, requestValue } from "./request-values";
import { recordsLeft, takeRecords } from "./record-limit";

/**
 * The fetch core: one request series (an entity, one combination of path parameters, one
 * slice), followed page by page through the entity's paginator, with auth, retries, the
 * source's shared rate limit and loop guards. Never throws for HTTP trouble: a page that
 * still fails after the retry budget, a body whose records path matches nothing (an API error in
 * a 200, a top-level array), a paginator's failure (a non-empty page repeating its cursor), a
 * repeated request, a page repeating the previous page's records exactly, or `maxPages` reached
 * ends the series with a `fetch` dead letter, and the pages before it are kept. Single records
 * that are not objects or are nested deeper than the source's `maxDepth` become `parse` dead
 * letters and the series goes on (the size limit is checked once, by the cleaning step, for every
 * source). Nothing returned carries a secret.
 *
 * Requests: the entity's `method` (GET, or POST with its JSON `body` template, pagination values placed
 * into it by the paginator), the source's and the entity's `headers`, and the entity's `auth` or else the
 * source's. OAuth2 tokens are obtained before a request when missing or about to expire (one token per
 * source in the process); a 401 drops the token and the request is retried once with a new one. A token
 * that cannot be obtained ends the series with a `fetch` dead letter.
 */

export interface SeriesRequest {
  source: SourceConfig;
  entity: string;
  slice?: Slice;
  /** Values for the `{name}` placeholders of the entity path. */
  pathParams?: Record<string, string>;
  /** Secret values of the (opened) config to mask and to drop on a foreign redirect (see openSecrets). */
  secrets?: Secrets;
  /** A child series: the parent record's values fill `{parent.<field>}` in path, params and body. */
  parent?: ParentRef;
  /** Incremental start: sent as `incremental.param`; with `order: desc` paging stops once a page reaches it. */
  since?: CursorValue;
}

export interface FetchContext {
  runId: string;
  /** Bound on requests in flight for this source in the process (shared gate); default 16. */
  maxWorkers?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /**
   * Trial cap (`run --limit N`): records per entity in this process, shared by the entity's series
   * (sources/rest/record-limit.ts). Paging stops once the budget is spent; a page is cut to what is left.
   */
  recordLimit?: number;
  /** Pages per series (`check` reads 1); the series then stops and reports the request it did not make. */
  pageLimit?: number;
}

export interface PageRequestInfo {
  /** The full request URL, secrets masked. */
  url: string;
  status: number;
  /** Page number, offset, cursor or next-URL path that produced the page. */
  page: string;
  fetched_at: string;
  attempts: number;
  /** Records of this page rejected as `parse` dead letters (not objects, too deep). */
  rejected: number;
  /** Non-finite tokens nulled outside the page's records (those inside are counted per record). */
  non_finite_nulled: number;
  /** Set when a response action said `ignore`: the page counts as empty, for this reason. */
  ignored?: string;
}

export interface Page {
  records: unknown[];
  /** Non-finite tokens nulled in each record, parallel to `records`. */
  nonFinite: number[];
  request: PageRequestInfo;
  /** Body fields named by the entity's `attach`, copied into every record downstream. */
  attached: Record<string, unknown>;
}

export interface SeriesResult {
  /** The endpoint path with path parameters filled in (lineage `_source`). */
  endpoint: string;
  pages: Page[];
  deadLetters: DeadLetter[];
  /** False when the series stopped early (fetch failure or loop guard): the run must end non-zero. */
  complete: boolean;
  /**
   * Set when `recordLimit` or `pageLimit` stopped the series while the paginator had more: the next
   * request it would have made (URL, secrets masked; a POST adds its body on a second line).
   */
  next?: string;
  /** True when `recordLimit` cut a page or stopped the paging. */
  limited?: boolean;
  /** The request that ended the series with a `fetch` dead letter: URL (secrets masked) and last HTTP status. */
  failedRequest?: { url: string; status: number | null };
}

export const DEFAULT_MAX_PAGES = 10_000;

/** Keys under which APIs put an error in a 200 body (`{"error": ...}`, GraphQL `errors`, SOAP-ish `fault`). */
const API_ERROR_KEYS = ["error", "errors", "message", "fault"];

/** `/v3/getStationHourlyAvg/{station_id}` + `{ station_id: "7" }` -> `/v3/getStationHourlyAvg/7`. */
export function fillPath(path: string, params: Record<string, string>, entity: string): string {
  return path.replace(/\{([^}]+)\}/g, (_whole: string, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`entity ${entity}: no value for path parameter {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** The first request URL of a series (no credentials, no pagination parameters). */
export function seriesUrl(source: SourceConfig, entity: EntityConfig, entityName: string, endpoint: string, slice: Slice | undefined, since?: CursorValue): URL {
  const url = new URL(source.baseUrl.replace(/\/+$/, "") + endpoint);
  for (const [k, v] of Object.entries(entity.params)) url.searchParams.set(k, v);
  const incremental = entity.incremental;
  if (incremental && since !== undefined && incremental.param) url.searchParams.set(incremental.param, cursorParamText(since));
  if (incremental && incremental.end !== undefined && incremental.endParam) url.searchParams.set(incremental.endParam, cursorParamText(incremental.end));
  if (slice) {
    if (!entity.slices) throw new Error(`entity ${entityName}: a slice was given but the entity declares no slices`);
    for (const [k, v] of Object.entries(sliceParams(slice, entity.slices))) url.searchParams.set(k, v);
  }
  return url;
}

type Extracted = { ok: true; records: unknown[] } | { ok: false; reason: string };

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * The records of a parsed body. An empty body or `null` at the path is an empty page; a path that
 * matches nothing in a non-empty body is a failure whose reason says what the body held. A JSONPath
 * (`$...`) selects each match as a record (one match that is an array gives its elements); no match is
 * an empty page when the path's static part exists (`$.data.orders.edges` is `[]`), else a failure.
 */
export function extractRecords(body: unknown, recordsPath: string): Extracted {
  if (body === null) return { ok: true, records: [] };
  if (isJsonPath(recordsPath)) {
    const query = queryJsonPath(body, recordsPath);
    if (!query.ok) return query;
    if (!query.exists) return { ok: false, reason: missingRecordsReason(body, recordsPath) };
    const only = query.matches.length === 1 ? query.matches[0] : undefined;
    if (only === null) return { ok: true, records: [] };
    return { ok: true, records: Array.isArray(only) ? only : query.matches };
  }
  const found = getPath(body, recordsPath);
  if (found === null) return { ok: true, records: [] };
  if (found === undefined) return { ok: false, reason: missingRecordsReason(body, recordsPath) };
  if (Array.isArray(found)) return { ok: true, records: found };
  if (typeof found === "object") return { ok: true, records: [found] };
  return { ok: false, reason: `records at "${recordsPath || "(body)"}" are a ${typeof found}, not an array` };
}

function missingRecordsReason(body: unknown, recordsPath: string): string {
  const where = `records path "${recordsPath}" matched nothing`;
  if (Array.isArray(body)) return `${where}: body is a JSON array: set recordsPath: ""`;
  if (typeof body !== "object" || body === null) return `${where}: body is a JSON ${typeof body}`;
  const keys = Object.keys(body);
  if (keys.some((k) => API_ERROR_KEYS.includes(k))) return `the API answered with an error instead of records: ${shortJson(body)}`;
  const shown = keys.slice(0, 10).join(", ") + (keys.length > 10 ? ", …" : "");
  return `${where}: body is an object with keys [${shown}]`;
}

/**
 * Nesting level of one record for the depth-bounded parse: a dotted path's array elements are 2 levels
 * below its steps (`data` -> 3). A JSONPath's matches are 1 level below its steps, or 2 when a single array
 * match is flattened; which one is known only after the parse, so the deeper level is used (a record may
 * then be one level deeper than `maxDepth`). A recursive descent has no fixed level: records are allowed
 * `maxDepth` more levels of ancestors.
 */
function recordLevel(recordsPath: string, maxDepth: number): number {
  if (!isJsonPath(recordsPath)) return (recordsPath === "" ? 0 : recordsPath.split(".").length) + 2;
  const steps = jsonPathSteps(recordsPath);
  return steps === undefined ? maxDepth + 2 : steps + 2;
}

/** The request body of a page: the entity's template with the paginator's values placed in it (JSON text). */
export function requestBody(template: Record<string, unknown> | undefined, values: Record<string, unknown>): string {
  let body: Record<string, unknown> = template ?? {};
  for (const [path, value] of Object.entries(values)) body = setPath(body, path, value);
  return JSON.stringify(body);
}

/** Header names and query parameters the authenticator added: the credentials to drop on a foreign redirect. */
function credentialsAdded(bare: { url: URL; headers: Record<string, string> }, authed: { url: URL; headers: Record<string, string> }): { headers: string[]; params: string[] } {
  const headers = Object.keys(authed.headers).filter((h) => authed.headers[h] !== bare.headers[h]);
  const params = [...new Set(authed.url.searchParams.keys())].filter((p) => authed.url.searchParams.getAll(p).join("\u0000") !== bare.url.searchParams.getAll(p).join("\u0000"));
  return { headers: headers, params: params };
}

export async function fetchSeries(request: SeriesRequest, ctx: FetchContext): Promise<SeriesResult> {
  const source = request.source;
  const configured = source.entities[request.entity];
  const entity = configured && request.parent ? entityForParent(configured, request.parent.values) : configured;
  if (!entity) throw new Error(`source ${source.name}: unknown entity "${request.entity}" (known: ${Object.keys(source.entities).join(", ")})`);
  const authConfig = resolveAuthSecrets(entity.auth ?? source.auth);
  const extra = resolveHeaderSecrets({ ...(source.headers ?? {}), ...(entity.headers ?? {}) });
  // The caller's secrets (every `${VAR}` value of the config, already resolved by openSecrets) and this request's own.
  const staticSecrets: Secrets = mergeSecrets([
    secretsOf(authConfig), request.secrets ?? { values: [], queryParams: [] }, { values: extra.secrets.flatMap(variants), queryParams: [] },
  ]);
  const clock = ctx.clock ?? systemClock;
  const storeKey = authConfig.type === "oauth2" ? oauth2StoreKey(source.name, authConfig) : "";
  const auth = createAuthenticator(authConfig, {
    storeKey: storeKey, retry: source.retry, clock: clock, fetch: ctx.fetch, random: ctx.random,
  });
  // Tokens obtained at run time are masked too, including ones already replaced.
  const currentSecrets = (): Secrets => (auth.liveSecrets ? mergeSecrets([staticSecrets, { values: auth.liveSecrets().flatMap(variants), queryParams: [] }]) : staticSecrets);
  const clean = (text: string) => redact(text, currentSecrets());
  const secretHeaders = Object.keys(extra.headers).filter((h) => staticSecrets.values.some((v) => v.length > 0 && extra.headers[h].includes(v)));
  const method = entity.method ?? "GET";
  const endpoint = fillPath(entity.path, request.pathParams ?? {}, request.entity);
  const paginator = createPaginator(entity.paginator ?? source.paginator);
  const gate = gateFor(source.name, { requestsPerSecond: source.rateLimit, maxWorkers: ctx.maxWorkers });
  const maxPages = entity.maxPages ?? DEFAULT_MAX_PAGES;
  const maxDepth = source.maxDepth ?? DEFAULT_MAX_DEPTH;
  const actions = [...(entity.responseActions ?? []), ...(source.responseActions ?? [])];
  const parse = { recordLevel: recordLevel(entity.recordsPath, maxDepth), maxDepth: maxDepth };
  const base = seriesUrl(source, entity, request.entity, endpoint, request.slice, request.since);
  const result: SeriesResult = { endpoint: endpoint, pages: [], deadLetters: [], complete: true };
  // The pages stay out of `result`, which the callbacks below capture: the build keeps the last
  // callback of each kind in a module-level variable, and with it every page of the last series.
  const pages: Page[] = [];
  const limitKey = `${ctx.runId}\u0000${source.name}\u0000${request.entity}`;

  // `source` is the endpoint, as in lineage; a fetch failure's payload is the request (secrets
  // removed), a refused record's payload is the record as the API sent it.
  // `recordText` is a record's original JSON text when the parsed value cannot stand for it (too deep).
  const fail = (stage: "fetch" | "parse", error: string, payload: Record<string, unknown>, record?: unknown, recordText?: string) => {
    if (stage === "fetch" && result.failedRequest === undefined) {
      const status = payload.status ?? payload.last_status;
      result.failedRequest = { url: String(payload.url ?? ""), status: typeof status === "number" ? status : null };
    }
    result.deadLetters.push(deadLetter({
      stage: stage,
      error: clean(error),
      payload: recordText !== undefined ? clean(recordText) : stage === "parse" ? JSON.stringify(redactDeep(record, currentSecrets())) ?? "undefined" : redactDeep({ method: method, ...payload, entity: request.entity, slice: request.slice ?? null, path_params: request.pathParams ?? {}, ...(request.parent ? { parent_key: request.parent.key } : {}) }, currentSecrets()),
      source: endpoint,
      run_id: ctx.runId,
      entity: request.entity,
    }));
  };

  let url = paginator.init(base);
  const bodyText = () => {
    if (method !== "POST") return undefined;
    return requestBody(entity.body, paginator.bodyValues ? paginator.bodyValues() : {});
  };
  let body = bodyText();
  // A request is its URL and its body: POST pagination changes only the body.
  const requestKey = (u: URL, b: string | undefined) => (b === undefined ? u.href : `${u.href}\n${b}`);
  const seen = new Set<string>([requestKey(url, body)]);
  let previousRecords: string | undefined;
  const sentRequest = (u: URL) => emitProgress({ kind: "request", source: source.name, entity: request.entity, url: clean(u.href) });
  const onWait = (ms: number, rateLimited: boolean, reason: string) => emitProgress(ms > 0 ? { kind: "retry_wait", source: source.name, entity: request.entity, ms: ms, rateLimited: rateLimited, reason: clean(reason) } : { kind: "retry_done", source: source.name, entity: request.entity });
  type Sent = { sent: OutgoingRequest; problem?: string; outcome?: Awaited<ReturnType<typeof getJsonWithRetry>> };
  const send = async (url: URL, body: string | undefined): Promise<Sent> => {
    const headers: Record<string, string> = { accept: "application/json", "accept-encoding": "gzip, deflate, br", ...extra.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const bare = { url: url, headers: headers };
    const problem = auth.prepare ? await auth.prepare() : undefined;
    if (problem) return { sent: bare, problem: problem };
    const authed = auth.apply(bare);
    const credentials = credentialsAdded(bare, authed);
    const request: JsonRequest = {
      ...authed, method: method, body: body, credentialHeaders: credentials.headers.concat(secretHeaders),
      credentialParams: credentials.params, actions: actions, parse: parse,
    };
    sentRequest(url);
    const outcome = await getJsonWithRetry(request, source.retry, { fetch: ctx.fetch, clock: ctx.clock, random: ctx.random, gate: gate, onWait: onWait });
    return { sent: authed, outcome: outcome };
  };
  for (let pageCount = 1; ; pageCount++) {
    if (stopRequested()) break; // interrupted: keep the pages in hand, request no more
    const page = paginator.pageId();
    let sent = await send(url, body);
    // 401: the token may have expired or been revoked early; one retry with a new one (the first 401 counts as an attempt).
    if (sent.outcome && !sent.outcome.ok && sent.outcome.status === 401 && auth.invalidate && auth.invalidate(sent.sent)) {
      const first = sent.outcome.attempts;
      sent = await send(url, body);
      if (sent.outcome) sent.outcome.attempts += first;
    }
    if (sent.problem !== undefined || !sent.outcome) {
      const details = { url: clean(url.href), page: page, attempts: 0, last_status: null, last_error: sent.problem ?? "" };
      fail("fetch", `${method} ${endpoint} page ${page}: no credentials: ${sent.problem}`, details);
      result.complete = false;
      break;
    }
    const outcome = sent.outcome;
    if (!outcome.ok) {
      const reason = outcome.stopped ?? (outcome.retryable ? `gave up after ${outcome.attempts} attempt(s)` : "not retryable");
      const details: Record<string, unknown> = { url: clean(url.href), page: page, attempts: outcome.attempts, last_status: outcome.status ?? null, last_error: outcome.error };
      if (outcome.bodyBase64 !== undefined) details.body_base64 = outcome.bodyBase64;
      if (body !== undefined) details.body = body;
      fail("fetch", `${method} ${endpoint} page ${page} failed: ${outcome.error} (${reason})`, details);
      result.complete = false;
      break;
    }
    const extracted = extractRecords(outcome.body, entity.recordsPath);
    if (!extracted.ok) {
      fail("fetch", `${method} ${endpoint} page ${page}: ${extracted.reason}`, { url: clean(url.href), page: page, status: outcome.status, body: JSON.stringify(outcome.body) });
      result.complete = false;
      break;
    }
    // Checked before any record of the page is used, so a dropped page leaves no dead letters behind.
    const signature = JSON.stringify(extracted.records);
    if (extracted.records.length > 0 && signature === previousRecords) {
      fail("fetch", `${method} ${endpoint} page ${page}: repeats the previous page's records exactly (does the API ignore the page parameter?)`, { url: clean(url.href), page: page, status: outcome.status, attempts: outcome.attempts });
      result.complete = false;
      break;
    }
    previousRecords = signature;
    // A trial run's cap: this page's share of the entity's budget (the rest of the page is not landed).
    const allowed = ctx.recordLimit === undefined ? extracted.records.length
      : takeRecords(limitKey, ctx.recordLimit, extracted.records.length);
    if (allowed < extracted.records.length) {
      extracted.records = extracted.records.slice(0, allowed);
      result.limited = true;
    }
    const records: unknown[] = [];
    const nonFinite: number[] = [];
    for (const record of extracted.records) {
      const markers = outcome.parsed ? takeMarkers(record, outcome.parsed) : { nonFinite: 0, tooDeep: false };
      if (markers.tooDeep && outcome.parsed) {
        fail("parse", `record nested deeper than ${maxDepth} levels on page ${page}`, {}, record, originalText(record, outcome.parsed));
      } else if (record === null || typeof record !== "object" || Array.isArray(record)) {
        fail("parse", `record is not a JSON object (${JSON.stringify(record)}) on page ${page}`, {}, record);
      } else {
        records.push(record);
        nonFinite.push(markers.nonFinite);
      }
    }
    const outside = outcome.parsed ? takeMarkers(outcome.body, outcome.parsed).nonFinite : 0;
    const attached: Record<string, unknown> = {};
    for (const [field, path] of Object.entries(entity.attach)) {
      attached[field] = isRequestReference(path) ? requestValue(path, { pathParams: request.pathParams ?? {}, slice: request.slice }) : getPath(outcome.body, path);
    }
    const info: PageRequestInfo = {
      url: clean(url.href), status: outcome.status, page: page, fetched_at: new Date(ctx.clock ? ctx.clock.now() : Date.now()).toISOString(),
      attempts: outcome.attempts, rejected: extracted.records.length - records.length, non_finite_nulled: outside,
    };
    if (outcome.ignored) info.ignored = clean(outcome.ignored);
    pages.push({ records: records, nonFinite: nonFinite, request: info, attached: attached });
    paginator.update({ body: outcome.body, headers: outcome.headers, recordCount: extracted.records.length, url: url });
    emitProgress({ kind: "page", source: source.name, entity: request.entity, page: clean(page), index: pageCount, seriesPages: paginator.totalPages ? paginator.totalPages() : undefined, records: records.length, status: outcome.status, attempts: outcome.attempts, url: info.url });
    const failure = paginator.failure ? paginator.failure() : undefined;
    if (failure) {
      fail("fetch", `${method} ${endpoint} page ${page}: ${failure}`, { url: clean(url.href), page: page, status: outcome.status, attempts: outcome.attempts });
      result.complete = false;
      break;
    }
    // A descending API's later pages are older still: everything from the start on is in hand.
    const incremental = entity.incremental;
    const since = request.since;
    if (incremental?.order === "desc" && since !== undefined && descPageReachedStart(records, incremental.cursorField, since)) break;
    if (!paginator.hasNext()) break;
    const next = paginator.next(url);
    const nextBody = bodyText();
    const budgetSpent = ctx.recordLimit !== undefined && recordsLeft(limitKey, ctx.recordLimit) === 0;
    if (budgetSpent || (ctx.pageLimit !== undefined && pageCount >= ctx.pageLimit)) {
      if (budgetSpent) result.limited = true;
      result.next = clean(nextBody === undefined ? next.href : `${next.href}\n${nextBody}`);
      break;
    }
    const guard = loopGuard(next, base, seen.has(requestKey(next, nextBody)), pageCount, maxPages);
    if (guard) {
      fail("fetch", `${method} ${endpoint}: ${guard} after page ${page}`, { url: clean(next.href), page: paginator.pageId(), attempts: 0, last_status: null, last_error: guard });
      result.complete = false;
      break;
    }
    seen.add(requestKey(next, nextBody));
    url = next;
    body = nextBody;
  }
  const failure = result.deadLetters.find((d) => d.stage === "fetch");
  emitProgress(failure ? { kind: "series_done", source: source.name, entity: request.entity, failure: failure.error } : { kind: "series_done", source: source.name, entity: request.entity });
  return { ...result, pages: pages };
}

/** Why the series must not request `next`, or undefined when it may. */
function loopGuard(next: URL, base: URL, repeated: boolean, pageCount: number, maxPages: number): string | undefined {
  if (next.origin !== base.origin) return `next page URL leaves ${base.origin} (credentials are never sent elsewhere)`;
  if (repeated) return `next request repeats an earlier one (${next.pathname + next.search}): the pagination loops`;
  if (pageCount >= maxPages) return `maxPages ${maxPages} reached`;
  return undefined;
}
