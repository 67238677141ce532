import { test } from "node:test";
import * as assert from "node:assert/strict";
import { KEY, withApi } from "./helpers";
import { commerceCustomer, commerceProduct } from "../../sources/demo-api/datasets/commerce";
import { jobPosting } from "../../sources/demo-api/datasets/jobs";

const PATHS = [
  "/commerce/products?page=2&per_page=20",
  "/commerce/customers?page=3&per_page=40",
  "/commerce/sales?offset=100&limit=50",
  "/fleet/drivers?limit=30",
  "/fleet/vehicles/stats/history?startTime=2024-03-01T00:00:00Z&endTime=2024-03-02T00:00:00Z",
  "/v3/stations",
  "/v3/getStationHourlyAvg/283164601",
  "/data/all",
  "/jobs/postings?page=2&per_page=10",
  "/invoices?limit=25",
];

async function fetchAll(seed: number): Promise<string[]> {
  return withApi({ seed: seed }, async (api) => {
    const bodies: string[] = [];
    for (const p of PATHS) {
      const res = await fetch(api.url + p, { headers: KEY });
      assert.equal(res.status, 200, p);
      // next URLs carry the port, which differs between servers
      bodies.push((await res.text()).split(api.url).join("http://HOST"));
    }
    return bodies;
  });
}

test("same seed gives the same bytes on every route; another seed gives other bytes", async () => {
  const a = await fetchAll(42);
  const b = await fetchAll(42);
  const c = await fetchAll(7);
  for (let i = 0; i < PATHS.length; i++) {
    assert.equal(a[i], b[i], `seed 42 twice differs on ${PATHS[i]}`);
    assert.notEqual(a[i], c[i], `seeds 42 and 7 agree on ${PATHS[i]}`);
    assert.ok(a[i].length > 20, PATHS[i]);
  }
});

test("the exported generators are what the server serves", async () => {
  await withApi({ seed: 9 }, async (api) => {
    const products = await (await fetch(`${api.url}/commerce/products?page=3&per_page=5`, { headers: KEY })).json();
    assert.deepEqual(products.data, [10, 11, 12, 13, 14].map((i) => commerceProduct(9, i)));
    const customers = await (await fetch(`${api.url}/commerce/customers?page=2&per_page=100`, { headers: KEY })).json();
    assert.deepEqual(customers.data, Array.from({ length: 100 }, (_, k) => commerceCustomer(9, 100 + k)));
    const jobs = await (await fetch(`${api.url}/data/all`, { headers: KEY })).json();
    assert.deepEqual(jobs[123], jobPosting(9, 123));
  });
});

test("generators are pure functions of (seed, index)", () => {
  assert.deepEqual(commerceCustomer(1, 500), commerceCustomer(1, 500));
  assert.notDeepEqual(commerceCustomer(1, 500), commerceCustomer(2, 500));
  assert.notDeepEqual(commerceCustomer(1, 500), commerceCustomer(1, 501));
});
