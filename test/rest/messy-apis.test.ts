import { test, beforeEach } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "http";
import * as zlib from "zlib";
import { fetchSeries, type SeriesResult } from "../../sources/rest/fetch-pages";
import { resetGates, type Clock } from "../../sources/rest/rate-limit";
import { parseResetSeconds, waitFromHeaders } from "../../sources/rest/rate-limit-headers";
import { decodeBody } from "../../sources/rest/decode-body";
import { parseJson } from "../../sources/rest/json-body";
import { fetchWorkItem } from "../../sources/rest/work-item";
import { messageToRecord } from "../../sources/messages";
import * as fs from "fs";
import * as path from "path";
import { parseSourceConfig, validateSourceConfig } from "../../sources/rest/config-loader";
import type { SourceConfigInput } from "../../model/source-config";
import { json, query, startServer, type LocalServer } from "./helpers";

/**
 * Issue 9 (kinds 1-5, 9) and issue 13 (redirects, maxPages, repeated pages) at the fetch core, each
 * against a small local server that behaves like a real API people filed bugs about.
 */

const ctx = { runId: "messy" };
const FAST = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000 };

beforeEach(() => resetGates());

function source(url: string, entity: Record<string, unknown>, extra: Partial<SourceConfigInput> = {}) {
  return validateSourceConfig({ name: "messy", baseUrl: url, retry: FAST, entities: { items: { primaryKey: ["id"], ...entity } }, ...extra }, "test/messy.yaml", { env: {} });
}

async function series(url: string, entity: Record<string, unknown>, extra: Partial<SourceConfigInput> = {}, more: { clock?: Clock } = {}): Promise<SeriesResult> {
  return fetchSeries({ source: source(url, entity, extra), entity: "items" }, { ...ctx, ...more });
}

const records = (r: SeriesResult) => r.pages.flatMap((p) => p.records) as Record<string, unknown>[];
const fetchErrors = (r: SeriesResult) => r.deadLetters.filter((d) => d.stage === "fetch").map((d) => d.error);
const offsets = (s: LocalServer) => s.requests.map((r) => query({ url: r.url } as http.IncomingMessage).get("offset"));
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

/** A server holding `total` records that never returns more than `cap` per request. */
function cappedServer(total: number, cap: number, body: (page: unknown[], offset: number) => unknown) {
  return startServer((req, res) => {
    const q = query(req);
    const offset = Number(q.get("offset"));
    const limit = Math.min(Number(q.get("limit")), cap);
    json(res, body(ids(total).slice(offset, offset + limit), offset));
  });
}

// ---- 1. page-size caps -------------------------------------------------------------------------

test("offset without a total: a capped server (50 of limit 100) yields all 120 records, offsets by what came back", async () => {
  const server = await cappedServer(120, 50, (page) => ({ data: page }));
  try {
    const r = await series(server.url, { path: "/items", paginator: { type: "offset", limit: 100 } });
    assert.deepEqual(records(r).map((x) => x.id), ids(120).map((x) => x.id));
    assert.deepEqual(offsets(server), ["0", "50", "100", "120"]);
    assert.equal(r.complete, true);
  } finally {
    await server.close();
  }
});

test("offset with a total or a has-more flag stops exactly at the end, short pages included", async () => {
  const withTotal = await cappedServer(120, 50, (page) => ({ data: page, meta: { total: 120 } }));
  const withFlag = await cappedServer(130, 40, (page, offset) => ({ data: page, has_more: offset + page.length < 130 }));
  try {
    const t = await series(withTotal.url, { path: "/items", paginator: { type: "offset", limit: 100, totalPath: "meta.total" } });
    assert.equal(records(t).length, 120);
    assert.deepEqual(offsets(withTotal), ["0", "50", "100"]);
    const f = await series(withFlag.url, { path: "/items", paginator: { type: "offset", limit: 100, hasMorePath: "has_more" } });
    assert.deepEqual(records(f).map((x) => x.id), ids(130).map((x) => x.id));
    assert.deepEqual(offsets(withFlag), ["0", "40", "80", "120"]);
  } finally {
    await withTotal.close();
    await withFlag.close();
  }
});

test("page_number with a has-more flag does not stop on a short page", async () => {
  const server = await startServer((req, res) => {
    const page = Number(query(req).get("page"));
    json(res, { data: page === 1 ? ids(3) : page === 2 ? ids(1, 3) : ids(2, 4), more: page < 3 });
  });
  try {
    const r = await series(server.url, { path: "/items", paginator: { type: "page_number", sizeParam: "size", size: 3, hasMorePath: "more" } });
    assert.deepEqual(records(r).map((x) => x.id), [0, 1, 2, 3, 4, 5]);
  } finally {
    await server.close();
  }
});

// ---- 2. cursor end, error bodies, missing records path, real causes ------------------------------

function cursorServer(pages: Record<string, { data: unknown[]; cursor: string }>) {
  return startServer((req, res) => {
    const page = pages[query(req).get("after") ?? "start"];
    json(res, { data: page.data, pagination: { endCursor: page.cursor, hasNextPage: true } });
  });
}
const CURSOR = { type: "cursor", cursorParam: "after", cursorPath: "pagination.endCursor", hasMorePath: "pagination.hasNextPage" };

test("cursor: an empty page repeating the previous cursor is the end of the stream, not a failure", async () => {
  const server = await cursorServer({ start: { data: ids(2), cursor: "c-1" }, "c-1": { data: ids(2, 2), cursor: "c-2" }, "c-2": { data: ids(1, 4), cursor: "c-3" }, "c-3": { data: [], cursor: "c-3" } });
  try {
    const r = await series(server.url, { path: "/items", paginator: CURSOR });
    assert.deepEqual(records(r).map((x) => x.id), [0, 1, 2, 3, 4]);
    assert.deepEqual(r.deadLetters, []);
    assert.equal(r.complete, true);
    assert.equal(server.requests.length, 4);
  } finally {
    await server.close();
  }
});

test("cursor: a non-empty page repeating its cursor is a loop, named; an empty mid-stream page is not the end", async () => {
  const loop = await cursorServer({ start: { data: ids(2), cursor: "c-1" }, "c-1": { data: ids(2, 2), cursor: "c-1" } });
  const gap = await cursorServer({ start: { data: ids(2), cursor: "c-1" }, "c-1": { data: [], cursor: "c-2" }, "c-2": { data: ids(1, 2), cursor: "c-2" } });
  try {
    const l = await series(loop.url, { path: "/items", paginator: CURSOR });
    assert.equal(records(l).length, 4);
    assert.deepEqual(fetchErrors(l), ['GET /items page c-1: cursor "c-1" repeated by a non-empty page: the API loops']);
    assert.equal(l.complete, false);
    const g = await series(gap.url, { path: "/items", paginator: CURSOR });
    assert.deepEqual(records(g).map((x) => x.id), [0, 1, 2], "the looping page's own records are new: kept");
    assert.deepEqual(fetchErrors(g), ['GET /items page c-2: cursor "c-2" repeated by a non-empty page: the API loops']);
  } finally {
    await loop.close();
    await gap.close();
  }
});

test("a 200 carrying an API error instead of records is a failed page quoting the error", async () => {
  const bodies: Record<string, unknown> = {
    "/quota": { error: "quota exceeded", code: 1003 },
    "/graphql": { errors: [{ message: "Field 'x' doesn't exist" }] },
    "/soap": { fault: { faultstring: "Server busy" } },
  };
  const server = await startServer((req, res) => json(res, bodies[new URL(req.url ?? "/", "http://x").pathname]));
  try {
    const got = [];
    for (const path of Object.keys(bodies)) {
      const r = await series(server.url, { path: path });
      assert.equal(records(r).length, 0);
      assert.equal(r.complete, false);
      got.push(...fetchErrors(r));
    }
    assert.deepEqual(got, [
      'GET /quota page 1: the API answered with an error instead of records: {"error":"quota exceeded","code":1003}',
      'GET /graphql page 1: the API answered with an error instead of records: {"errors":[{"message":"Field \'x\' doesn\'t exist"}]}',
      'GET /soap page 1: the API answered with an error instead of records: {"fault":{"faultstring":"Server busy"}}',
    ]);
  } finally {
    await server.close();
  }
});

test("a records path matching nothing says what the body held", async () => {
  const server = await startServer((req, res) => (req.url === "/array" ? json(res, ids(2)) : json(res, { items: ids(2), total: 2 })));
  try {
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/array" })), ['GET /array page 1: records path "data" matched nothing: body is a JSON array: set recordsPath: ""']);
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/object" })), ['GET /object page 1: records path "data" matched nothing: body is an object with keys [items, total]']);
    assert.equal(records(await series(server.url, { path: "/array", recordsPath: "" })).length, 2);
  } finally {
    await server.close();
  }
});

test("every fetch dead letter names its cause: 401, connection refused, HTML", async () => {
  const server = await startServer((req, res) => {
    if (req.url === "/private") return json(res, { message: "Bad credentials" }, 401);
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>Maintenance</title>");
  });
  const closed = await startServer(() => undefined);
  await closed.close();
  try {
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/private" })), ['GET /private page 1 failed: HTTP 401: {"message":"Bad credentials"} (not retryable)']);
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/html" })), [
      "GET /html page 1 failed: body is HTML, not JSON (content-type text/html, 41 bytes): <!doctype html><title>Maintenance</title> (gave up after 4 attempt(s))",
    ]);
    const refused = fetchErrors(await series(closed.url, { path: "/gone" }));
    assert.deepEqual(refused, ["GET /gone page 1 failed: fetch failed (ECONNREFUSED) (gave up after 4 attempt(s))"]);
  } finally {
    await server.close();
  }
});

// ---- 3. rate-limit headers and response actions ------------------------------------------------

/** A clock whose sleeps pass instantly and are recorded. */
function fakeClock(start: number): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept: slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

test("reset headers: Retry-After (seconds, date), ratelimit-reset, x-ratelimit-reset by magnitude", () => {
  const now = Date.parse("2026-11-29T12:00:00Z");
  assert.deepEqual(waitFromHeaders({ "retry-after": "2", "x-ratelimit-reset": String(now / 1000 + 60) }, now), { ms: 2000, header: "retry-after" });
  assert.deepEqual(waitFromHeaders({ "retry-after": "Sun, 29 Nov 2026 12:00:07 GMT" }, now), { ms: 7000, header: "retry-after" });
  assert.deepEqual(waitFromHeaders({ "ratelimit-reset": "3" }, now), { ms: 3000, header: "ratelimit-reset" });
  assert.deepEqual(waitFromHeaders({ "x-ratelimit-reset": String(now / 1000 + 30) }, now), { ms: 30000, header: "x-ratelimit-reset" });
  assert.deepEqual(waitFromHeaders({ "x-ratelimit-reset": "45" }, now), { ms: 45000, header: "x-ratelimit-reset" });
  assert.equal(parseResetSeconds("999999999", now), 999999999000, "below the epoch threshold: seconds to wait");
  assert.equal(parseResetSeconds(String(now / 1000 - 10), now), 0, "a reset in the past: no wait");
  assert.equal(waitFromHeaders({ "x-ratelimit-remaining": "0" }, now), undefined);
});

test("GitHub-style 403 and a 429 with only x-ratelimit-reset are retried after the announced wait", async () => {
  const clock = fakeClock(Date.parse("2026-11-29T12:00:00Z"));
  const resetAt = clock.now() / 1000 + 90;
  const server = await startServer((req, res, n) => {
    if (req.url?.startsWith("/github") && n === 1) return json(res, { message: "API rate limit exceeded" }, 403, { "retry-after": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetAt) });
    if (req.url?.startsWith("/reset") && n === 3) return json(res, { message: "slow down" }, 429, { "x-ratelimit-reset": String(resetAt) });
    json(res, { data: ids(1) });
  });
  try {
    const g = await series(server.url, { path: "/github" }, {}, { clock: clock });
    assert.equal(records(g).length, 1);
    assert.deepEqual(clock.slept, [2000]);
    assert.equal(g.pages[0].request.attempts, 2);
    const r = await series(server.url, { path: "/reset" }, {}, { clock: clock });
    assert.equal(records(r).length, 1);
    assert.deepEqual(clock.slept, [2000, 88000], "until the epoch reset, 2 s of which already passed");
  } finally {
    await server.close();
  }
});

test("a 403 without rate-limit headers stays final; a wait beyond retry.maxWaitMs is a dead letter", async () => {
  const clock = fakeClock(Date.parse("2026-11-29T12:00:00Z"));
  const server = await startServer((req, res) => {
    if (req.url?.startsWith("/forbidden")) return json(res, { message: "no" }, 403);
    json(res, { message: "later" }, 429, { "ratelimit-reset": "600" });
  });
  try {
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/forbidden" }, {}, { clock: clock })), ['GET /forbidden page 1 failed: HTTP 403: {"message":"no"} (not retryable)']);
    const long = await series(server.url, { path: "/long" }, { retry: { ...FAST, maxWaitMs: 120_000 } }, { clock: clock });
    assert.deepEqual(fetchErrors(long), [
      'GET /long page 1 failed: HTTP 429 rate limited: {"message":"later"} (rate-limit wait exceeded: ratelimit-reset asks for 600000 ms, more than retry.maxWaitMs 120000 ms)',
    ]);
    assert.deepEqual(clock.slept, []);
  } finally {
    await server.close();
  }
});

/** A clock whose sleepers wake only when the test advances it. */
function manualClock(start: number) {
  let now = start;
  const sleepers: { until: number; wake: () => void }[] = [];
  const watchers: { count: number; done: () => void }[] = [];
  const check = () => {
    for (const w of watchers.filter((x) => sleepers.length >= x.count)) {
      watchers.splice(watchers.indexOf(w), 1);
      w.done();
    }
  };
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => {
      sleepers.push({ until: now + ms, wake: resolve });
      check();
    }),
    /** Resolves once `count` callers are asleep. */
    asleep: (count: number) => new Promise<void>((resolve) => {
      watchers.push({ count: count, done: resolve });
      check();
    }),
    advance: (ms: number) => {
      now += ms;
      for (const s of sleepers.filter((x) => x.until <= now)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.wake();
      }
    },
  };
}

test("a rate-limit wait pauses the whole source: another series starts nothing before the reset", async () => {
  const clock = manualClock(Date.parse("2026-11-29T12:00:00Z"));
  const start = clock.now();
  const seen: string[] = [];
  let limited = false;
  const server = await startServer((req, res) => {
    seen.push(`${new URL(req.url ?? "/", "http://x").pathname}@${clock.now() - start}`);
    if (req.url?.startsWith("/a") && !limited) {
      limited = true;
      return json(res, { message: "slow down" }, 429, { "retry-after": "5" });
    }
    json(res, { data: ids(1) });
  });
  try {
    const config = validateSourceConfig({ name: "shared", baseUrl: server.url, retry: FAST, entities: { a: { path: "/a", primaryKey: ["id"] }, b: { path: "/b", primaryKey: ["id"] } } }, "t.yaml", { env: {} });
    const first = fetchSeries({ source: config, entity: "a" }, { ...ctx, clock: clock });
    await clock.asleep(1); // /a got its 429 and waits 5 s
    const second = fetchSeries({ source: config, entity: "b" }, { ...ctx, clock: clock });
    await clock.asleep(2); // /b waits at the source's gate, not at the server
    assert.deepEqual(seen, ["/a@0"]);
    clock.advance(5000);
    const results = await Promise.all([first, second]);
    assert.deepEqual(results.map((r) => records(r).length), [1, 1]);
    assert.deepEqual(seen.slice(1).sort(), ["/a@5000", "/b@5000"]);
  } finally {
    await server.close();
  }
});

test("a 2xx announcing an exhausted quota pauses the source until its reset", async () => {
  const clock = fakeClock(Date.parse("2026-11-29T12:00:00Z"));
  const server = await startServer((req, res) => {
    const page = Number(query(req).get("page"));
    json(res, { data: page <= 2 ? ids(1, page) : [] }, 200, page === 1 ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7" } : {});
  });
  try {
    const r = await series(server.url, { path: "/items", paginator: { type: "page_number" } }, {}, { clock: clock });
    assert.equal(records(r).length, 2);
    assert.deepEqual(clock.slept, [7000]);
  } finally {
    await server.close();
  }
});

test("response actions: 404 ignore (counted empty page), header rule retry, contentMatches fail; entity rules first", async () => {
  const clock = fakeClock(Date.parse("2026-11-29T12:00:00Z"));
  let throttled = 0;
  const server = await startServer((req, res) => {
    if (req.url?.startsWith("/missing")) return json(res, { message: "Not Found" }, 404);
    if (req.url?.startsWith("/throttled") && throttled++ === 0) return json(res, { message: "busy" }, 403, { "x-busy": "yes" });
    if (req.url?.startsWith("/soft")) return json(res, { data: [], status: "MAINTENANCE" });
    json(res, { data: ids(1) });
  });
  const actions = [
    { status: 403, header: "X-Busy", equals: "yes", action: "retry" },
    { status: 404, action: "ignore" },
    { contentMatches: "MAINTENANCE", action: "fail" },
  ] as const;
  try {
    const missing = await series(server.url, { path: "/missing" }, { responseActions: [...actions] }, { clock: clock });
    assert.equal(missing.complete, true);
    assert.deepEqual(missing.pages.map((p) => [p.records.length, p.request.status, p.request.ignored]), [[0, 404, "response action {status 404} -> ignore (HTTP 404)"]]);
    const throttledRun = await series(server.url, { path: "/throttled" }, { responseActions: [...actions] }, { clock: clock });
    assert.equal(records(throttledRun).length, 1);
    assert.equal(throttledRun.pages[0].request.attempts, 2);
    const soft = await series(server.url, { path: "/soft" }, { responseActions: [...actions] }, { clock: clock });
    assert.deepEqual(fetchErrors(soft), ['GET /soft page 1 failed: response action {body matches /MAINTENANCE/} -> fail (HTTP 200): {"data":[],"status":"MAINTENANCE"} (not retryable)']);
    // An entity's rule wins over the source's: here a 404 is a failure for this entity only.
    const strict = await series(server.url, { path: "/missing", responseActions: [{ status: 404, action: "fail" }] }, { responseActions: [...actions] }, { clock: clock });
    assert.deepEqual(fetchErrors(strict), ['GET /missing page 1 failed: response action {status 404} -> fail (HTTP 404): {"message":"Not Found"} (not retryable)']);
  } finally {
    await server.close();
  }
});

test("the README's messy-API example is a valid config", () => {
  const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "README.md"), "utf8");
  const start = readme.indexOf("```yaml\nname: events") + "```yaml\n".length;
  const config = parseSourceConfig(readme.slice(start, readme.indexOf("```", start)), "README.md", { env: {} });
  assert.deepEqual(config.responseActions.map((a) => a.action), ["retry", "ignore", "fail"]);
  assert.deepEqual([config.retry.maxWaitMs, config.maxDepth, config.entities.events.maxPages], [300000, 64, 10000]);
});

test("responseActions are validated when the config loads", () => {
  assert.throws(() => source("http://h", { path: "/x" }, { responseActions: [{ action: "retry" }] as never }), /a response action needs status, header or contentMatches/);
  assert.throws(() => source("http://h", { path: "/x" }, { responseActions: [{ contentMatches: "(", action: "fail" }] as never }), /must be a valid regular expression/);
  assert.throws(() => source("http://h", { path: "/x" }, { responseActions: [{ status: 404, action: "skip" }] as never }), /action/);
});

// ---- 4. encodings ------------------------------------------------------------------------------

function bytesServer(routes: Record<string, { body: Buffer; headers: Record<string, string> }>) {
  return startServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    res.writeHead(200, { ...route.headers, "content-length": String(route.body.length) });
    res.end(route.body);
  });
}

test("bodies decode by their declared charset; BOM kept working; gzip, deflate and br accepted", async () => {
  const text = JSON.stringify({ data: [{ id: 1, name: "Müller", city: "Besançon", price: "€5" }] });
  const server = await bytesServer({
    "/latin1": { body: Buffer.from(text.replace("€5", "5"), "latin1"), headers: { "content-type": "application/json; charset=ISO-8859-1" } },
    "/cp1252": { body: Buffer.concat([Buffer.from(text.split("€")[0], "latin1"), Buffer.from([0x80]), Buffer.from(text.split("€")[1], "latin1")]), headers: { "content-type": 'application/json; charset="windows-1252"' } },
    "/bom": { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), headers: { "content-type": "application/json" } },
    "/gzip": { body: zlib.gzipSync(text), headers: { "content-type": "application/json", "content-encoding": "gzip" } },
    "/deflate": { body: zlib.deflateSync(text), headers: { "content-type": "application/json", "content-encoding": "deflate" } },
    "/br": { body: zlib.brotliCompressSync(text), headers: { "content-type": "application/json; charset=utf-8", "content-encoding": "br" } },
  });
  try {
    const latin1 = records(await series(server.url, { path: "/latin1" }));
    assert.deepEqual(latin1, [{ id: 1, name: "Müller", city: "Besançon", price: "5" }]);
    for (const path of ["/cp1252", "/bom", "/gzip", "/deflate", "/br"]) {
      assert.deepEqual(records(await series(server.url, { path: path })), [{ id: 1, name: "Müller", city: "Besançon", price: "€5" }], path);
    }
    assert.equal(server.requests[0].headers["accept-encoding"], "gzip, deflate, br");
  } finally {
    await server.close();
  }
});

test("a body that is not valid in its charset is a dead letter naming the charset, bytes kept", async () => {
  const latin1 = Buffer.from(JSON.stringify({ data: [{ id: 1, name: "Müller" }] }), "latin1");
  const server = await bytesServer({
    "/wrong": { body: latin1, headers: { "content-type": "application/json; charset=utf-8" } },
    "/undeclared": { body: latin1, headers: { "content-type": "application/json" } },
    "/unknown": { body: latin1, headers: { "content-type": "application/json; charset=x-klingon" } },
  });
  try {
    const wrong = await series(server.url, { path: "/wrong" });
    assert.deepEqual(fetchErrors(wrong), [`GET /wrong page 1 failed: body is not valid utf-8 (the declared charset): ${latin1.length} bytes kept undecoded (not retryable)`]);
    assert.equal(Buffer.from(JSON.parse(wrong.deadLetters[0].payload).body_base64, "base64").equals(latin1), true);
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/undeclared" })), [`GET /undeclared page 1 failed: body is not valid utf-8 (the default charset): ${latin1.length} bytes kept undecoded (not retryable)`]);
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/unknown" })), ['GET /unknown page 1 failed: unsupported charset "x-klingon" in Content-Type "application/json; charset=x-klingon" (not retryable)']);
    assert.equal(server.requests.length, 3, "not retried");
  } finally {
    await server.close();
  }
  assert.deepEqual(decodeBody(Buffer.from("caf\xe9", "latin1"), "text/plain; charset=latin1"), { ok: true, text: "café", charset: "latin1" });
});

// ---- 5. lossless numbers and non-finite tokens --------------------------------------------------

test("integers beyond 2^53 arrive as their exact decimal strings; safe numbers stay numbers", async () => {
  const text = '{"data":[{"id":1234567890123456789},{"id":1234567890123456790},{"id":9007199254740993},{"id":9007199254740992},{"id":-9007199254740993,"n":1.5,"big":1e400,"ok":9007199254740991}]}';
  const server = await bytesServer({ "/ids": { body: Buffer.from(text), headers: { "content-type": "application/json" } } });
  try {
    assert.deepEqual(records(await series(server.url, { path: "/ids" })), [
      { id: "1234567890123456789" }, { id: "1234567890123456790" }, { id: "9007199254740993" }, { id: "9007199254740992" },
      { id: "-9007199254740993", n: 1.5, big: "1e400", ok: 9007199254740991 },
    ]);
  } finally {
    await server.close();
  }
});

test("bare NaN, Infinity and -Infinity become null, counted per record; inside strings they stay", async () => {
  const text = '{"data":[{"id":1,"co":NaN,"pm":Infinity},{"id":2,"co":-Infinity,"note":"NaN Infinity"},{"id":3,"co":-4}],"meta":{"avg":NaN}}';
  const server = await bytesServer({ "/nan": { body: Buffer.from(text), headers: { "content-type": "application/json" } } });
  try {
    const config = source(server.url, { path: "/nan" });
    const elements = await fetchWorkItem(config, { entity: "items", pathParams: {} }, ctx);
    const got = elements.flatMap((e) => ("record" in e ? [[e.record.record, e.record.non_finite_nulled]] : []));
    assert.deepEqual(got, [[{ id: 1, co: null, pm: null }, 2], [{ id: 2, co: null, note: "NaN Infinity" }, 1], [{ id: 3, co: -4 }, undefined]]);
    const pages = elements.flatMap((e) => ("page" in e ? [e.page.non_finite_nulled] : []));
    assert.deepEqual(pages, [1], "the one outside the records");
    assert.deepEqual(elements.filter((e) => "deadLetter" in e), []);
    assert.equal(server.requests.length, 1, "not retried as if truncated");
  } finally {
    await server.close();
  }
});

test("Pub/Sub message bodies are parsed the same way (big ints, non-finite, depth)", () => {
  const msg = (data: string) => ({ id: "m1", data: data, publishTime: "2026-11-29T00:00:00.000Z", attributes: {} });
  const big = messageToRecord(msg('{"id":9007199254740993,"v":NaN,"w":2}'), "src", "events", "r");
  assert.deepEqual("record" in big ? [big.record.record, big.record.non_finite_nulled] : big, [{ id: "9007199254740993", v: null, w: 2 }, 1]);
  const deep = messageToRecord(msg('{"a":' + "[".repeat(5000) + "]".repeat(5000) + "}"), "src", "events", "r");
  assert.equal("deadLetter" in deep ? deep.deadLetter.error : "", "record nested deeper than 64 levels");
  assert.equal("deadLetter" in deep ? deep.deadLetter.payload : "", '{"a":' + "[".repeat(5000) + "]".repeat(5000) + "}");
  const bad = messageToRecord(msg("{oops"), "src", "events", "r");
  assert.match("deadLetter" in bad ? bad.deadLetter.error : "", /^malformed JSON: /);
});

// ---- 9. depth ----------------------------------------------------------------------------------

test("a record nested 5,000 levels deep is a parse dead letter; the page's other records land", async () => {
  const deep = '{"id":2,"x":' + "[".repeat(5000) + "]".repeat(5000) + "}";
  const text = `{"data":[{"id":1},${deep},{"id":3,"ok":[[1]]}]}`;
  const server = await bytesServer({ "/deep": { body: Buffer.from(text), headers: { "content-type": "application/json" } } });
  try {
    const r = await series(server.url, { path: "/deep" });
    assert.deepEqual(records(r), [{ id: 1 }, { id: 3, ok: [[1]] }]);
    assert.deepEqual(r.deadLetters.map((d) => [d.stage, d.error]), [["parse", "record nested deeper than 64 levels on page 1"]]);
    assert.equal(r.deadLetters[0].payload, deep);
    assert.equal(r.pages[0].request.rejected, 1);
    const limited = await series(server.url, { path: "/deep" }, { maxDepth: 2 });
    assert.deepEqual(records(limited), [{ id: 1 }], "[[1]] is 3 levels with its record");
  } finally {
    await server.close();
  }
});

test("the depth pre-scan is exact at the limit and ignores brackets inside strings", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  const at = parseJson(`{"r":${nest(63)}}`, { recordLevel: 1, maxDepth: 64 });
  assert.ok(at.ok && at.cut.length === 0);
  const over = parseJson(`{"r":${nest(64)}}`, { recordLevel: 1, maxDepth: 64 });
  assert.ok(over.ok && over.cut.length === 1);
  const strings = parseJson(`{"r":"${"[".repeat(100)}\\"{"}`, { recordLevel: 1, maxDepth: 2 });
  assert.ok(strings.ok && strings.cut.length === 0 && (strings.value as { r: string }).r === "[".repeat(100) + '"{');
});

// ---- 7. redirects, maxPages, repeated pages (issue 13) -------------------------------------------

test("a redirect to another origin drops every credential; a same-origin redirect keeps them", async () => {
  const other = await startServer((req, res) => json(res, { data: [{ id: 7 }] }));
  const api = await startServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/moved") {
      // Like servers that echo the query into Location: a query key would travel along.
      res.writeHead(302, { location: `${other.url}/landing${new URL(req.url ?? "/", "http://x").search}` });
      return res.end();
    }
    if (path === "/here") {
      res.writeHead(307, { location: "/final" });
      return res.end();
    }
    json(res, { data: [{ id: 8 }] });
  });
  try {
    for (const auth of [
      { type: "api_key", location: "header", name: "X-API-Key", value: "demo-key" },
      { type: "api_key", location: "query", name: "api_key", value: "demo-key" },
      { type: "bearer", token: "demo-token" },
      { type: "basic", username: "user", password: "demo-pass" },
    ]) {
      const r = await series(api.url, { path: "/moved" }, { auth: auth as never });
      assert.deepEqual(records(r), [{ id: 7 }], auth.type);
    }
    assert.equal(other.requests.length, 4);
    for (const req of other.requests) {
      assert.equal(req.url, "/landing");
      assert.equal(req.headers["x-api-key"], undefined);
      assert.equal(req.headers.authorization, undefined);
      assert.ok(!JSON.stringify(req).includes("demo-"), "a credential reached the other origin");
    }
    const same = await series(api.url, { path: "/here" }, { auth: { type: "api_key", name: "X-API-Key", value: "demo-key" } as never });
    assert.deepEqual(records(same), [{ id: 8 }]);
    assert.equal(api.requests.at(-1)?.url, "/final");
    assert.equal(api.requests.at(-1)?.headers["x-api-key"], "demo-key");
  } finally {
    await api.close();
    await other.close();
  }
});

test("a redirect loop ends with a dead letter after 10 hops", async () => {
  const server = await startServer((req, res) => {
    res.writeHead(302, { location: "/loop" });
    res.end();
  });
  try {
    assert.deepEqual(fetchErrors(await series(server.url, { path: "/loop" })), ["GET /loop page 1 failed: more than 10 redirects (not retryable)"]);
    assert.equal(server.requests.length, 11);
  } finally {
    await server.close();
  }
});

test("maxPages per entity: an endless series stops with a dead letter; the default is 10000", async () => {
  const server = await startServer((req, res) => json(res, { data: [{ id: Number(query(req).get("page")) }], more: true }));
  try {
    const r = await series(server.url, { path: "/endless", maxPages: 3, paginator: { type: "page_number", hasMorePath: "more" } });
    assert.deepEqual(records(r).map((x) => x.id), [1, 2, 3]);
    assert.deepEqual(fetchErrors(r), ["GET /endless: maxPages 3 reached after page 3"]);
    assert.equal(source(server.url, { path: "/x" }).entities.items.maxPages, 10000);
  } finally {
    await server.close();
  }
});

test("a page repeating the previous page's records (the API ignores the page param) stops the series", async () => {
  const server = await startServer((req, res) => json(res, { data: ids(3), has_more: true }));
  const emptyPages = await startServer((req, res) => {
    const page = Number(query(req).get("page"));
    json(res, { data: page === 4 ? ids(1) : [], has_more: page < 4 });
  });
  try {
    const r = await series(server.url, { path: "/same", paginator: { type: "page_number", hasMorePath: "has_more" } });
    assert.deepEqual(records(r).map((x) => x.id), [0, 1, 2]);
    assert.deepEqual(fetchErrors(r), ["GET /same page 2: repeats the previous page's records exactly (does the API ignore the page parameter?)"]);
    assert.equal(server.requests.length, 2);
    const e = await series(emptyPages.url, { path: "/sparse", paginator: { type: "page_number", hasMorePath: "has_more" } });
    assert.deepEqual(records(e).map((x) => x.id), [0], "repeated empty pages are not a loop");
    assert.deepEqual(e.deadLetters, []);
  } finally {
    await server.close();
    await emptyPages.close();
  }
});
