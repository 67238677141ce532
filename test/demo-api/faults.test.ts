import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BEARER, KEY, getJson, nextLink, withApi } from "./helpers";
import { startDemoApi } from "../../sources/demo-api/server";

test("latency delays only the matching requests", async () => {
  await withApi({ faults: [{ path: "/commerce/products", kind: "latency", ms: 300 }] }, async (api) => {
    let t = performance.now();
    assert.equal((await getJson(`${api.url}/commerce/products`)).status, 200);
    const slow = performance.now() - t;
    t = performance.now();
    assert.equal((await getJson(`${api.url}/commerce/customers`)).status, 200);
    const fast = performance.now() - t;
    assert.ok(slow >= 290, `slow ${slow}`);
    assert.ok(fast < slow - 100, `fast ${fast} vs slow ${slow}`);
  });
});

test("status answers the given 5xx with a JSON error, `times` times, after `afterRequests`", async () => {
  await withApi({ faults: [{ path: "/commerce", kind: "status", status: 502, times: 2, afterRequests: 1 }] }, async (api) => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await getJson(`${api.url}/commerce/sales?limit=1`);
      statuses.push(r.status);
      if (r.status === 502) assert.equal(typeof r.body.error, "string");
    }
    assert.deepEqual(statuses, [200, 502, 502, 200, 200]);
    assert.equal(api.stats().byStatus["502"], 2);
  });
});

test("rate_limit answers 429 with Retry-After sent verbatim (fractional seconds too)", async () => {
  await withApi({}, async (api) => {
    api.setFaults([{ path: "/fleet/drivers", kind: "rate_limit", retryAfter: "0.40235", times: 1 }]);
    const limited = await fetch(`${api.url}/fleet/drivers`, { headers: BEARER });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "0.40235");
    await limited.text();
    assert.equal((await fetch(`${api.url}/fleet/drivers`, { headers: BEARER })).status, 200);
    const date = "Wed, 21 Oct 2015 07:28:00 GMT";
    api.setFaults([{ path: "/", kind: "rate_limit", retryAfter: date }]);
    const again = await fetch(`${api.url}/v3/stations`, { headers: KEY });
    assert.equal(again.status, 429);
    assert.equal(again.headers.get("retry-after"), date);
  });
});

test("truncate sends half of the body: fetch() sees an error or invalid JSON", async () => {
  await withApi({ faults: [{ path: "/commerce/customers", kind: "truncate", times: 1 }] }, async (api) => {
    const res = await fetch(`${api.url}/commerce/customers?per_page=200`, { headers: KEY });
    assert.equal(res.status, 200);
    const declared = Number(res.headers.get("content-length"));
    assert.ok(declared > 1000);
    await assert.rejects(async () => JSON.parse(await res.text()));
    assert.equal((await getJson(`${api.url}/commerce/customers?per_page=200`)).body.data.length, 200, "next request is whole");
    assert.equal(api.stats().byStatus["truncated"], 1);
  });
});

test("reset destroys the socket without a response", async () => {
  await withApi({ faults: [{ path: "/invoices", kind: "reset", times: 1 }] }, async (api) => {
    await assert.rejects(fetch(`${api.url}/invoices`, { headers: KEY }), TypeError);
    assert.equal((await getJson(`${api.url}/invoices`)).status, 200);
  });
});

test("hang never answers, and close() ends it promptly", async () => {
  const api = await startDemoApi({ port: 0, faults: [{ path: "/data/all", kind: "hang" }] });
  const pending = fetch(`${api.url}/data/all`, { headers: KEY }).then(
    (r) => r.text().then(() => "answered"),
    () => "failed",
  );
  const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r("still waiting"), 300))]);
  assert.equal(raced, "still waiting");
  const t = performance.now();
  await api.close();
  assert.equal(await pending, "failed");
  assert.ok(performance.now() - t < 2000, "close() returns promptly");
});

test("close() also ends requests held by a long latency and idle keep-alive sockets", async () => {
  const api = await startDemoApi({ port: 0 });
  assert.equal((await getJson(`${api.url}/v3/stations`)).status, 200); // leaves a keep-alive socket
  api.setFaults([{ path: "/", kind: "latency", ms: 60_000 }]);
  const pending = fetch(`${api.url}/v3/stations`, { headers: KEY }).then(() => "answered", () => "failed");
  await new Promise((r) => setTimeout(r, 100));
  const t = performance.now();
  await api.close();
  assert.equal(await pending, "failed");
  assert.ok(performance.now() - t < 2000, "close() does not wait for the 60 s latency");
});

test("empty_page: an empty page whose pagination says more follow, in every style", async () => {
  await withApi({ sizes: { products: 30, customers: 30, sales: 30, drivers: 30, invoices: 30, jobs: 30 }, faults: [{ path: "/", kind: "empty_page", page: "2" }] }, async (api) => {
    const products = await getJson(`${api.url}/commerce/products?page=2&per_page=10`);
    assert.deepEqual(products.body.data, []);
    assert.ok(products.body.meta.total_pages > 2);
    assert.deepEqual((await getJson(`${api.url}/commerce/customers?page=2&per_page=10`)).body, { data: [], has_more: true });
    assert.equal((await getJson(`${api.url}/commerce/customers?page=1&per_page=10`)).body.data.length, 10, "page filter spares page 1");
    const jobs = await getJson(`${api.url}/jobs/postings?page=2&per_page=10`);
    assert.deepEqual(jobs.body, []);
    assert.match(nextLink(jobs.headers.get("link")) ?? "", /page=3/);
    api.setFaults([{ path: "/", kind: "empty_page", times: 1 }]);
    const drivers = await getJson(`${api.url}/fleet/drivers?limit=10`, BEARER);
    assert.deepEqual(drivers.body.data, []);
    assert.equal(drivers.body.pagination.hasNextPage, true);
    assert.notEqual(drivers.body.pagination.endCursor, "");
    // the re-issued cursor resumes where the empty page was: nothing is lost
    const resumed = await getJson(`${api.url}/fleet/drivers?limit=10&after=${drivers.body.pagination.endCursor}`, BEARER);
    assert.equal(resumed.body.data[0].id, "100000");
    api.setFaults([{ path: "/invoices", kind: "empty_page", times: 1 }]);
    const inv = await getJson(`${api.url}/invoices?limit=10`);
    assert.deepEqual(inv.body.items, []);
    assert.equal(typeof inv.body.next, "string");
    assert.equal((await getJson(inv.body.next)).body.items.length, 10);
    api.setFaults([{ path: "/commerce/sales", kind: "empty_page", times: 1 }]);
    const sales = await getJson(`${api.url}/commerce/sales?offset=20&limit=10`);
    assert.deepEqual(sales.body.data, []);
    assert.ok(sales.body.total > 20);
  });
});

test("repeat_cursor: cursor routes hand back the request's cursor with hasNextPage true", async () => {
  await withApi({ sizes: { drivers: 30, invoices: 30 } }, async (api) => {
    const first = await getJson(`${api.url}/fleet/drivers?limit=10`, BEARER);
    const cursor = first.body.pagination.endCursor;
    api.setFaults([{ path: "/fleet", kind: "repeat_cursor" }]);
    const page = await getJson(`${api.url}/fleet/drivers?limit=10&after=${cursor}`, BEARER);
    assert.equal(page.body.data.length, 10);
    assert.deepEqual(page.body.pagination, { endCursor: cursor, hasNextPage: true });
    const last = await getJson(`${api.url}/fleet/drivers?limit=10&after=${page.body.pagination.endCursor}`, BEARER);
    assert.equal(last.body.data[0].id, "100010", "the same page again");
    const stats = await getJson(`${api.url}/fleet/vehicles/stats/history?startTime=2024-01-01T00:00:00Z&endTime=2024-01-02T00:00:00Z&limit=5&after=${"djE6c3RhdHM6MTA"}`, BEARER);
    assert.equal(stats.body.pagination.endCursor, "djE6c3RhdHM6MTA");
    assert.equal(stats.body.pagination.hasNextPage, true);
    api.setFaults([{ path: "/invoices", kind: "repeat_cursor" }]);
    const inv1 = await getJson(`${api.url}/invoices?limit=10`);
    const inv2 = await getJson(inv1.body.next);
    assert.deepEqual(inv2.body.items, inv1.body.items);
    assert.equal(new URL(inv2.body.next).searchParams.get("cursor"), new URL(inv1.body.next).searchParams.get("cursor"));
  });
});

test("faults set and cleared over HTTP; /_stats counts requests per path with arrival times", async () => {
  await withApi({}, async (api) => {
    const unauth = await fetch(`${api.url}/_faults`, { method: "POST", body: "[]" });
    assert.equal(unauth.status, 401);
    const bad = await fetch(`${api.url}/_faults`, { method: "POST", headers: KEY, body: JSON.stringify([{ path: "/", kind: "explode" }]) });
    assert.equal(bad.status, 400);
    const set = await fetch(`${api.url}/_faults`, { method: "POST", headers: KEY, body: JSON.stringify([{ path: "/v3", kind: "status", status: 500 }]) });
    assert.equal(set.status, 200);
    assert.equal((await getJson(`${api.url}/v3/stations`)).status, 500);
    assert.equal((await fetch(`${api.url}/_faults`, { method: "DELETE", headers: KEY })).status, 200);
    assert.equal((await getJson(`${api.url}/v3/stations`)).status, 200);
    await getJson(`${api.url}/commerce/products`);
    await fetch(`${api.url}/commerce/products`);
    const stats = (await getJson(`${api.url}/_stats`)).body;
    assert.equal(stats.byPath["/v3/stations"], 2);
    assert.equal(stats.byPath["/commerce/products"], 2);
    assert.equal(stats.byPath["/_stats"], undefined, "control routes are not counted");
    assert.equal(stats.total, 4);
    assert.equal(stats.byStatus["500"], 1);
    assert.equal(stats.byStatus["401"], 1);
    assert.equal(stats.arrivals.length, 4);
    for (let i = 1; i < stats.arrivals.length; i++) assert.ok(stats.arrivals[i].at >= stats.arrivals[i - 1].at);
    assert.ok(Math.abs(stats.arrivals[0].at - Date.now()) < 10_000);
    assert.deepEqual(stats.arrivals.map((a: any) => a.status), [500, 200, 200, 401]);
    assert.equal((await fetch(`${api.url}/_stats`, { method: "DELETE", headers: KEY })).status, 200);
    assert.equal(api.stats().total, 0);
  });
});
