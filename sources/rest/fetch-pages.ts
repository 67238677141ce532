import { deadLetter, type DeadLetter } from "../../model/dead-letter";
import type { EntityConfig, SourceConfig } from "../../model/source-config";
import { createAuthenticator, redact, redactDeep, secretsOf, type Secrets } from "./auth/index";
import { getPath } from "./json-path";
import { resolveAuthSecrets } from "./secrets";
import { stopRequested } from "./stop";
import { createPaginator } from "./paginators/index";
import { gateFor, type Clock } from "./rate-limit";
import { getJsonWithRetry } from "./retry";
import { sliceParams, type Slice } from "./slices";

/**
 * The fetch core: one request series (an entity, one combination of path parameters, one
 * slice), followed page by page through the entity's paginator, with auth, retries, the
 * source's shared rate limit and a loop guard. Never throws for HTTP trouble: a page that
 * still fails after the retry budget (or whose body has no records array, or a repeated
 * cursor) ends the series with a `fetch` dead letter, and the pages before it are kept.
 * Single records that are not objects become `parse` dead letters and the series goes on (the
 * size limit is checked once, by the cleaning step, for every source). Nothing returned
 * carries a secret.
 */

export interface SeriesRequest {
  source: SourceConfig;
  entity: string;
  slice?: Slice;
  /** Values for the `{name}` placeholders of the entity path. */
  pathParams?: Record<string, string>;
}

export interface FetchContext {
  runId: string;
  /** Bound on requests in flight for this source in the process (shared gate); default 16. */
  maxWorkers?: number;
  /** A series stops with a dead letter after this many pages (runaway guard); default 100,000. */
  maxPages?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
}

export interface PageRequestInfo {
  /** The full request URL, secrets masked. */
  url: string;
  status: number;
  /** Page number, offset, cursor or next-URL path that produced the page. */
  page: string;
  fetched_at: string;
  attempts: number;
  /** Records of this page rejected as `parse` dead letters (not objects, too big). */
  rejected: number;
}

export interface Page {
  records: unknown[];
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
}

export const DEFAULT_MAX_PAGES = 100_000;

/** `/v3/getStationHourlyAvg/{station_id}` + `{ station_id: "7" }` -> `/v3/getStationHourlyAvg/7`. */
export function fillPath(path: string, params: Record<string, string>, entity: string): string {
  return path.replace(/\{([^}]+)\}/g, (_whole: string, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`entity ${entity}: no value for path parameter {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** The first request URL of a series (no credentials, no pagination parameters). */
export function seriesUrl(source: SourceConfig, entity: EntityConfig, entityName: string, endpoint: string, slice: Slice | undefined): URL {
  const url = new URL(source.baseUrl.replace(/\/+$/, "") + endpoint);
  for (const [k, v] of Object.entries(entity.params)) url.searchParams.set(k, v);
  if (slice) {
    if (!entity.slices) throw new Error(`entity ${entityName}: a slice was given but the entity declares no slices`);
    for (const [k, v] of Object.entries(sliceParams(slice, entity.slices))) url.searchParams.set(k, v);
  }
  return url;
}

type Extracted = { ok: true; records: unknown[] } | { ok: false; reason: string };

function extractRecords(body: unknown, recordsPath: string): Extracted {
  const found = getPath(body, recordsPath);
  // A path that names nothing in a non-empty body is a wrong recordsPath, not an empty page.
  if (found === undefined && body !== null && typeof body === "object" && Object.keys(body).length > 0) {
    const shape = Array.isArray(body) ? "an array (set recordsPath: \"\")" : `an object with keys ${Object.keys(body).slice(0, 8).join(", ")}`;
    return { ok: false, reason: `recordsPath "${recordsPath}" matched nothing: the body is ${shape}` };
  }
  if (found === undefined || found === null) return { ok: true, records: [] };
  if (Array.isArray(found)) return { ok: true, records: found };
  if (typeof found === "object") return { ok: true, records: [found] };
  return { ok: false, reason: `records at "${recordsPath || "(body)"}" are a ${typeof found}, not an array` };
}

export async function fetchSeries(request: SeriesRequest, ctx: FetchContext): Promise<SeriesResult> {
  const source = request.source;
  const entity = source.entities[request.entity];
  if (!entity) throw new Error(`source ${source.name}: unknown entity "${request.entity}" (known: ${Object.keys(source.entities).join(", ")})`);
  const authConfig = resolveAuthSecrets(source.auth);
  const secrets: Secrets = secretsOf(authConfig);
  const clean = (text: string) => redact(text, secrets);
  const endpoint = fillPath(entity.path, request.pathParams ?? {}, request.entity);
  const auth = createAuthenticator(authConfig);
  const paginator = createPaginator(entity.paginator ?? source.paginator);
  const gate = gateFor(source.name, { requestsPerSecond: source.rateLimit, maxWorkers: ctx.maxWorkers });
  const maxPages = ctx.maxPages ?? DEFAULT_MAX_PAGES;
  const base = seriesUrl(source, entity, request.entity, endpoint, request.slice);
  const result: SeriesResult = { endpoint: endpoint, pages: [], deadLetters: [], complete: true };

  // `source` is the endpoint, as in lineage; a fetch failure's payload is the request (secrets
  // removed), a refused record's payload is the record as the API sent it.
  const fail = (stage: "fetch" | "parse", error: string, payload: Record<string, unknown>, record?: unknown) => {
    result.deadLetters.push(deadLetter({
      stage: stage,
      error: clean(error),
      payload: stage === "parse" ? JSON.stringify(redactDeep(record, secrets)) ?? "undefined" : redactDeep({ method: "GET", ...payload, entity: request.entity, slice: request.slice ?? null, path_params: request.pathParams ?? {} }, secrets),
      source: endpoint,
      run_id: ctx.runId,
      entity: request.entity,
    }));
  };

  let url = paginator.init(base);
  const seen = new Set<string>([url.href]);
  for (let pageCount = 1; ; pageCount++) {
    if (stopRequested()) break; // interrupted: keep the pages in hand, request no more
    const page = paginator.pageId();
    const outgoing = auth.apply({ url: url, headers: { accept: "application/json" } });
    const outcome = await getJsonWithRetry(outgoing, source.retry, { fetch: ctx.fetch, clock: ctx.clock, random: ctx.random, gate: gate });
    if (!outcome.ok) {
      const reason = outcome.retryable ? `gave up after ${outcome.attempts} attempt(s)` : "not retryable";
      fail("fetch", `GET ${endpoint} page ${page} failed: ${outcome.error} (${reason})`, {
        url: clean(url.href), page: page, attempts: outcome.attempts, last_status: outcome.status ?? null, last_error: outcome.error,
      });
      result.complete = false;
      break;
    }
    const extracted = extractRecords(outcome.body, entity.recordsPath);
    if (!extracted.ok) {
      fail("fetch", `GET ${endpoint} page ${page}: ${extracted.reason}`, { url: clean(url.href), page: page, status: outcome.status, body: JSON.stringify(outcome.body) });
      result.complete = false;
      break;
    }
    const records: unknown[] = [];
    for (const record of extracted.records) {
      if (record === null || typeof record !== "object" || Array.isArray(record)) {
        fail("parse", `record is not a JSON object (${JSON.stringify(record)}) on page ${page}`, {}, record);
      } else records.push(record);
    }
    const attached: Record<string, unknown> = {};
    for (const [field, path] of Object.entries(entity.attach)) attached[field] = getPath(outcome.body, path);
    result.pages.push({
      records: records,
      request: { url: clean(url.href), status: outcome.status, page: page, fetched_at: new Date(ctx.clock ? ctx.clock.now() : Date.now()).toISOString(), attempts: outcome.attempts, rejected: extracted.records.length - records.length },
      attached: attached,
    });
    paginator.update({ body: outcome.body, headers: outcome.headers, recordCount: extracted.records.length, url: url });
    if (!paginator.hasNext()) break;
    const next = paginator.next(url);
    const guard = loopGuard(next, base, seen, pageCount, maxPages);
    if (guard) {
      fail("fetch", `GET ${endpoint}: ${guard} after page ${page}`, { url: clean(next.href), page: paginator.pageId(), attempts: 0, last_status: null, last_error: guard });
      result.complete = false;
      break;
    }
    seen.add(next.href);
    url = next;
  }
  return result;
}

/** Why the series must not request `next`, or undefined when it may. */
function loopGuard(next: URL, base: URL, seen: Set<string>, pageCount: number, maxPages: number): string | undefined {
  if (next.origin !== base.origin) return `next page URL leaves ${base.origin} (credentials are never sent elsewhere)`;
  if (seen.has(next.href)) return `cursor repeated: ${next.pathname + next.search}`;
  if (pageCount >= maxPages) return `page limit of ${maxPages} reached`;
  return undefined;
}
