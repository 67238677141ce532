import { test, before, after, beforeEach } from "node:test";
import * as assert from "node:assert/strict";
import { startDemoApi, type DemoApi, type FaultRule } from "../../sources/demo-api/server";
import { encodeCursor } from "../../sources/demo-api/cursor";
import { fetchSeries } from "../../sources/rest/fetch-pages";
import { resetGates } from "../../sources/rest/rate-limit";
import { fetchFailed, fetchWorkItem, planWorkItems } from "../../sources/rest/work-item";
import type { SourceConfig } from "../../model/source-config";
import type { DeadLetter } from "../../model/dead-letter";
import { commerceSource, fleetSource, otherSources, SECRETS } from "./demo-sources";

/**
 * The fetch core against the demo API with injected faults: exactly the expected records,
 * failures as dead letters, the non-zero-exit signal, and no secret anywhere in the output.
 */

let api: DemoApi;
const SIZES = { products: 120, customers: 200, sales: 450, drivers: 45, invoices: 130, stations: 2, readingsDays: 1, jobs: 60, vehicleStatsPerDay: 96 };
const outputs: string[] = [];
const ctx = { runId: "test-run" };

before(async () => {
  api = await startDemoApi({ port: 0, seed: 7, sizes: SIZES, apiKey: "demo-key", bearerToken: "demo-token" });
});
after(async () => {
  await api.close();
  // Every output of every test, greped for secrets at the end.
  const all = outputs.join("\n");
  for (const secret of SECRETS) assert.ok(!all.includes(secret), `secret ${secret.slice(0, 2)}… found in outputs`);
});
beforeEach(() => {
  api.setFaults([]);
  api.resetStats();
  resetGates();
});

async function run(source: SourceConfig, entity: string, faults: FaultRule[] = [], extra: Partial<Parameters<typeof fetchSeries>[0]> = {}) {
  api.setFaults(faults);
  const started = Date.now();
  const result = await fetchSeries({ source: source, entity: entity, ...extra }, ctx);
  outputs.push(JSON.stringify(result));
  const records = result.pages.flatMap((p) => p.records) as Record<string, unknown>[];
  return { result: result, records: records, ms: Date.now() - started };
}

/** The pages of records of a fault-free run, fetched once per (source, entity). */
const references = new Map<string, string[][]>();
async function reference(source: SourceConfig, entity: string): Promise<string[][]> {
  const key = `${source.name}/${entity}`;
  if (!references.has(key)) {
    api.setFaults([]);
    const result = await fetchSeries({ source: source, entity: entity }, ctx);
    assert.equal(result.complete, true);
    references.set(key, result.pages.map((p) => p.records.map((r) => JSON.stringify(r))));
  }
  return references.get(key) as string[][];
}
/** Asserts the records are exactly the reference's, in order, without the pages in `skipPages`. */
async function assertExactly(source: SourceConfig, entity: string, records: unknown[], skipPages: number[] = []) {
  const want = (await reference(source, entity)).filter((_p, i) => !skipPages.includes(i)).flat();
  assert.equal(records.length, want.length);
  assert.deepEqual(records.map((r) => JSON.stringify(r)), want);
}
/** Records fetched: emitted plus rejected as parse dead letters. */
const fetchedCount = (result: { pages: { records: unknown[]; request: { rejected: number } }[] }) =>
  result.pages.reduce((n, p) => n + p.records.length + p.request.rejected, 0);

const fetchDeadLetters = (result: { deadLetters: DeadLetter[] }) => result.deadLetters.filter((d) => d.stage === "fetch");
const ids = (records: Record<string, unknown>[], key: string) => records.map((r) => String(r[key]));
const unique = (xs: string[]) => new Set(xs).size;

test("clean runs: every paginator style yields exactly the dataset", async () => {
  const commerce = commerceSource(api.url);
  const products = await run(commerce, "products");
  assert.equal(fetchedCount(products.result), 120);
  assert.equal(products.result.pages.length, 6);
  const customers = await run(commerce, "customers");
  assert.equal(fetchedCount(customers.result), 200);
  const sales = await run(commerce, "sales");
  assert.equal(fetchedCount(sales.result), 450);
  assert.equal(sales.result.pages.length, 5);
  const drivers = await run(fleetSource(api.url), "drivers");
  assert.equal(fetchedCount(drivers.result), 45);
  assert.deepEqual(drivers.result.pages.map((p) => p.request.page).slice(0, 2), ["start", encodeCursor("drivers", 10)]);
  const misc = otherSources(api.url);
  const invoices = await run(misc, "invoices");
  assert.equal(fetchedCount(invoices.result), 130);
  const jobs = await run(misc, "jobs");
  assert.equal(fetchedCount(jobs.result), 60);
  assert.equal(jobs.result.pages.length, 3);
  const filtered = await run(misc, "jobs_filtered");
  assert.ok(filtered.records.length > 0 && filtered.records.every((r) => /^Bangalore/.test(String(r.Location))));
  for (const r of [products, customers, sales, drivers, invoices, jobs, filtered]) {
    assert.equal(fetchDeadLetters(r.result).length, 0);
    assert.equal(r.result.complete, true);
  }
});

test("attach and path parameters: one series per station, header fields on every record", async () => {
  const source = otherSources(api.url);
  const items = planWorkItems(source, { entities: ["readings"] });
  assert.equal(items.length, 2);
  const elements = (await Promise.all(items.map((item) => fetchWorkItem(source, item, ctx)))).flat();
  outputs.push(JSON.stringify(elements));
  const records = elements.flatMap((e) => ("record" in e ? [e.record] : []));
  assert.equal(elements.filter((e) => "page" in e).length, 2);
  assert.equal(records.length, elements.filter((e) => "page" in e).reduce((n, e) => n + ("page" in e ? e.page.records : 0), 0));
  assert.ok(records.length >= 40);
  assert.deepEqual([...new Set(records.map((r) => r.record.station_id))].sort(), ["283164601", "283181971"]);
  assert.deepEqual([...new Set(records.map((r) => r._source))].sort(), ["/v3/getStationHourlyAvg/283164601", "/v3/getStationHourlyAvg/283181971"]);
  assert.ok(records.some((r) => typeof r.record["PM2.5"] === "number"));
});

test("slices: one series per day with the bounds as RFC 3339 params", async () => {
  const source = fleetSource(api.url);
  const items = planWorkItems(source, { entities: ["vehicle_stats"], range: { from: new Date("2024-01-01T00:00:00Z"), to: new Date("2024-01-04T00:00:00Z") } });
  assert.equal(items.length, 3);
  const elements = (await Promise.all(items.map((item) => fetchWorkItem(source, item, ctx)))).flat();
  outputs.push(JSON.stringify(elements));
  const records = elements.flatMap((e) => ("record" in e ? [e.record] : []));
  assert.equal(records.length, 3 * 96);
  for (const r of records) {
    const t = String(r.record.time);
    assert.ok(r.slice && t >= r.slice.start.slice(0, 19) && t < r.slice.end.slice(0, 19), `${t} outside ${JSON.stringify(r.slice)}`);
  }
  const pages = elements.flatMap((e) => ("page" in e ? [e.page] : []));
  assert.ok(pages[0].url.includes("startTime=2024-01-0"));
});

for (const [form, retryAfter, minWaitMs] of [
  ["integer seconds", "1", 950],
  ["fractional seconds", "0.40235", 390],
  ["an HTTP date", new Date(Date.now() + 60_000).toUTCString(), 0],
] as const) {
  test(`429 with Retry-After as ${form}: waits as told, then every record`, async () => {
    let header: string = retryAfter;
    let wanted: number = minWaitMs;
    if (form === "an HTTP date") {
      // Whole seconds only: aim 2 s ahead, so at least ~1 s remains when the header is read.
      header = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toUTCString();
      wanted = 900;
    }
    const source = commerceSource(api.url);
    await reference(source, "customers");
    api.resetStats();
    const { records, result, ms } = await run(source, "customers", [{ path: "/commerce/customers", kind: "rate_limit", retryAfter: header, page: "2", times: 1 }]);
    await assertExactly(source, "customers", records);
    assert.equal(fetchDeadLetters(result).length, 0);
    assert.ok(ms >= wanted, `waited only ${ms} ms for Retry-After ${header}`);
    assert.ok(ms < wanted + 2500, `waited ${ms} ms`);
    assert.equal(api.stats().byStatus["429"], 1);
    assert.equal(result.pages[1].request.attempts, 2);
  });
}

// Issue 9: a server-requested wait is honoured up to retry.maxWaitMs (not cut to maxDelayMs); a longer one
// ends the series at once with a reason naming the header and both durations.
test("Retry-After beyond retry.maxWaitMs ends the series with a dead letter naming the wait", async () => {
  const source = commerceSource(api.url, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 300, timeoutMs: 1000, maxWaitMs: 60_000 } });
  const { records, result, ms } = await run(source, "customers", [{ path: "/commerce/customers", kind: "rate_limit", retryAfter: "3600", times: 1 }]);
  assert.equal(records.length, 0);
  assert.ok(ms < 2000, `took ${ms} ms`);
  const dls = fetchDeadLetters(result);
  assert.equal(dls.length, 1);
  assert.equal(dls[0].error, 'GET /commerce/customers page 1 failed: HTTP 429 rate limited: {"error":"rate limit exceeded"} (rate-limit wait exceeded: retry-after asks for 3600000 ms, more than retry.maxWaitMs 60000 ms)');
});

test("a burst of 5xx, truncated JSON, connection resets and a hang are retried", async () => {
  const source = commerceSource(api.url, { retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50, timeoutMs: 300 } });
  await reference(source, "sales");
  api.resetStats();
  const { records, result } = await run(source, "sales", [
    { path: "/commerce/sales", kind: "status", status: 503, page: "100", times: 3 },
    { path: "/commerce/sales", kind: "status", status: 500, page: "200", times: 1 },
    { path: "/commerce/sales", kind: "truncate", page: "300", times: 2 },
    { path: "/commerce/sales", kind: "reset", page: "0", times: 2 },
    { path: "/commerce/sales", kind: "hang", page: "400", times: 1 },
  ]);
  await assertExactly(source, "sales", records);
  assert.equal(fetchDeadLetters(result).length, 0);
  const s = api.stats().byStatus;
  assert.equal(s["503"], 3);
  assert.equal(s["truncated"], 2);
  assert.equal(s["reset"], 2);
  assert.equal(s["hang"], 1);
  assert.deepEqual(result.pages.map((p) => p.request.attempts), [3, 4, 2, 3, 2]);
});

test("an empty page mid-stream does not end the series", async () => {
  const commerce = commerceSource(api.url);
  for (const e of ["products", "customers", "sales"]) await reference(commerce, e);
  const products = await run(commerce, "products", [{ path: "/commerce/products", kind: "empty_page", page: "2", times: 1 }]);
  // The server sent page 2 empty: its 20 products are not there, everything else is.
  await assertExactly(commerce, "products", products.records, [1]);
  assert.equal(products.result.pages.length, 6);
  const customers = await run(commerce, "customers", [{ path: "/commerce/customers", kind: "empty_page", page: "2", times: 1 }]);
  await assertExactly(commerce, "customers", customers.records, [1]);
  assert.equal(customers.result.pages.length, 4);
  // Offsets advance by the records returned, so an empty page cannot be stepped over: before the
  // declared total it is a failure, never a silent skip (issue 9).
  const sales = await run(commerce, "sales", [{ path: "/commerce/sales", kind: "empty_page", page: "100", times: 1 }]);
  await assertExactly(commerce, "sales", sales.records, [1, 2, 3, 4]);
  assert.equal(fetchedCount(sales.result), 100);
  assert.equal(sales.result.pages.length, 2);
  assert.deepEqual(fetchDeadLetters(sales.result).map((d) => d.error), ["GET /commerce/sales page 100: empty page at offset 100 before the declared total 450"]);
  // Cursor APIs re-issue the cursor on an empty page: nothing is lost.
  const fleet = fleetSource(api.url);
  await reference(fleet, "drivers");
  const drivers = await run(fleet, "drivers", [{ path: "/fleet/drivers", kind: "empty_page", page: encodeCursor("drivers", 20), times: 1 }]);
  await assertExactly(fleet, "drivers", drivers.records);
  assert.equal(drivers.result.pages.length, 6);
  const misc = otherSources(api.url);
  await reference(misc, "invoices");
  const invoices = await run(misc, "invoices", [{ path: "/invoices", kind: "empty_page", afterRequests: 1, times: 1 }]);
  await assertExactly(misc, "invoices", invoices.records);
  for (const r of [products, customers, drivers, invoices]) assert.equal(fetchDeadLetters(r.result).length, 0);
});

test("a repeating cursor stops with a dead letter, keeps the pages before it, no loop", async () => {
  const drivers = await run(fleetSource(api.url), "drivers", [{ path: "/fleet/drivers", kind: "repeat_cursor", page: encodeCursor("drivers", 20) }]);
  assert.equal(drivers.records.length, 30);
  assert.equal(drivers.result.complete, false);
  assert.equal(fetchDeadLetters(drivers.result).length, 1);
  const dl = drivers.result.deadLetters.filter((d) => d.stage === "fetch")[0];
  assert.equal(dl.stage, "fetch");
  assert.equal(dl.error, `GET /fleet/drivers page ${encodeCursor("drivers", 20)}: cursor "${encodeCursor("drivers", 20)}" repeated by a non-empty page: the API loops`);
  assert.equal(dl.run_id, "test-run");
  assert.equal(api.stats().byPath["/fleet/drivers"], 3);
  const invoices = await run(otherSources(api.url), "invoices", [{ path: "/invoices", kind: "repeat_cursor", afterRequests: 1 }]);
  assert.equal(invoices.records.length, 80, "first page, then the page that repeats its own URL");
  assert.match(fetchDeadLetters(invoices.result).map((d) => d.error).join(), /next request repeats an earlier one \(\/invoices\?/);
});

test("a page that keeps failing becomes a fetch dead letter; earlier pages are kept; the run must fail", async () => {
  const source = commerceSource(api.url, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 1000 } });
  api.setFaults([{ path: "/commerce/customers", kind: "status", status: 502, page: "3" }]);
  const items = planWorkItems(source, { entities: ["customers", "products"] });
  const elements = (await Promise.all(items.map((item) => fetchWorkItem(source, item, ctx)))).flat();
  outputs.push(JSON.stringify(elements));
  assert.equal(fetchFailed(elements), true);
  const customers = elements.flatMap((e) => ("record" in e && e.record.entity === "customers" ? [e.record] : []));
  await assertExactly(source, "customers", customers.map((r) => r.record), [2, 3]);
  assert.equal(elements.filter((e) => "record" in e && e.record.entity === "products").length, (await reference(source, "products")).flat().length, "other entities unaffected");
  const dls = elements.flatMap((e) => ("deadLetter" in e && e.deadLetter.stage === "fetch" ? [e.deadLetter] : []));
  assert.equal(dls.length, 1);
  assert.equal(dls[0].stage, "fetch");
  assert.equal(dls[0].entity, "customers");
  assert.equal(dls[0].source, "/commerce/customers");
  const payload = JSON.parse(dls[0].payload);
  assert.equal(payload.method, "GET");
  assert.equal(payload.attempts, 3);
  assert.equal(payload.last_status, 502);
  assert.equal(payload.page, "3");
  assert.equal(payload.url, `${api.url}/commerce/customers?page=3&per_page=50`);
  assert.equal(api.stats().byStatus["502"], 3);
  assert.match(dls[0].error, /GET \/commerce\/customers page 3 failed: HTTP 502: \{"error":"injected fault","status":502\} \(gave up after 3 attempt\(s\)\)/);
});

test("a persistent timeout is a dead letter naming the timeout", async () => {
  const source = commerceSource(api.url, { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 200 } });
  const { result } = await run(source, "products", [{ path: "/commerce/products", kind: "hang", page: "1" }]);
  assert.equal(result.pages.length, 0);
  assert.match(fetchDeadLetters(result).map((d) => d.error).join(), /timeout after 200 ms/);
});

test("wrong credentials: not retried, masked everywhere", async () => {
  const wrong = commerceSource(api.url, { auth: { type: "api_key", location: "query", name: "api_key", value: "wrong-key-123" } });
  const { result } = await run(wrong, "products");
  assert.equal(fetchDeadLetters(result).length, 1);
  const text = JSON.stringify(result);
  assert.ok(!text.includes("wrong-key-123"), text);
  assert.ok(!text.includes("api_key"), "the key parameter is added to the outgoing request only");
  assert.equal(JSON.parse(result.deadLetters[0].payload).attempts, 1);
  assert.equal(JSON.parse(result.deadLetters[0].payload).last_status, 401);
});

test("api key in the query: fetched pages and URLs carry no key", async () => {
  const source = otherSources(api.url);
  const { result, records } = await run(source, "invoices", [{ path: "/invoices", kind: "status", status: 503, times: 1 }]);
  assert.equal(records.length, 130);
  for (const page of result.pages) assert.ok(!page.request.url.includes("api_key"), page.request.url);
});

test("thrown errors carry no secret", async () => {
  const source = commerceSource(api.url);
  await assert.rejects(fetchSeries({ source: source, entity: "orders" }, ctx), (e: unknown) => {
    outputs.push(String(e));
    return /unknown entity "orders" \(known: products, customers, sales\)/.test(String(e));
  });
});
