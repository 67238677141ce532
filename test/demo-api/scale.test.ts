import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BEARER, getJson, withApi } from "./helpers";
import { commerceCustomer } from "../../sources/demo-api/datasets/commerce";

test("1,000,000 customers: a deep page is served quickly (generation is lazy)", async () => {
  const t0 = performance.now();
  await withApi({ sizes: { customers: 1_000_000, sales: 5_000_000, drivers: 2_000_000, invoices: 3_000_000, vehicleStatsPerDay: 86_400 } }, async (api) => {
    const started = performance.now() - t0;
    assert.ok(started < 3000, `server starts in ${started} ms`);
    let t = performance.now();
    const deep = await getJson(`${api.url}/commerce/customers?page=9999&per_page=100`);
    const ms = performance.now() - t;
    assert.equal(deep.body.data.length, 100);
    assert.equal(deep.body.has_more, true);
    assert.deepEqual(deep.body.data[0], commerceCustomer(42, 999_800));
    // generating all 1M customers takes seconds (about 8 s on a loaded machine); one page about 1 ms
    assert.ok(ms < 2000, `deep page took ${ms} ms`);
    const last = await getJson(`${api.url}/commerce/customers?page=10000&per_page=100`);
    assert.equal(last.body.has_more, false);
    assert.equal(last.body.data.length, 100);
    t = performance.now();
    const sales = await getJson(`${api.url}/commerce/sales?offset=4999000&limit=1000`);
    assert.equal(sales.body.data.length, 1000);
    const stats = await getJson(`${api.url}/fleet/vehicles/stats/history?startTime=2024-12-31T23:00:00Z&limit=100`, BEARER);
    assert.equal(stats.body.data.length, 100);
    assert.equal(stats.body.data[0].time, "2024-12-31T23:00:00Z");
    assert.ok(performance.now() - t < 3000, "deep offset and cursor pages are fast too");
  });
});
