import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BEARER, KEY, getJson, nextLink, walkCursor, walkPages, withApi } from "./helpers";
import { commerceSale } from "../../sources/demo-api/datasets/commerce";
import { fleetStatTimeMs } from "../../sources/demo-api/datasets/fleet";
import { airQualityDuplicated } from "../../sources/demo-api/datasets/airquality";

const SIZES = { products: 137, customers: 1003, sales: 777, drivers: 1100, vehicleStatsPerDay: 48, stations: 3, readingsDays: 3, jobs: 233, invoices: 451 };

test("products: page number with meta.total_pages yields exactly `products` records", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    const records = (await walkPages(api.url, "/commerce/products", 20, (b, page) => {
      assert.equal(b.meta.total, 137);
      assert.equal(b.meta.per_page, 20);
      assert.equal(b.meta.page, page);
      return page >= b.meta.total_pages;
    })) as any[];
    assert.equal(records.length, 137);
    assert.deepEqual(records.map((r) => r.product_id), Array.from({ length: 137 }, (_, i) => "P" + String(i + 1).padStart(4, "0")));
    const big = await getJson(`${api.url}/commerce/products?per_page=100000`);
    assert.equal(big.body.meta.per_page, 500, "per_page is capped at 500");
    assert.equal(big.body.data.length, 137);
    const dflt = await getJson(`${api.url}/commerce/products`);
    assert.equal(dflt.body.meta.per_page, 50);
    assert.equal(dflt.body.meta.total_pages, 3);
    assert.equal((await getJson(`${api.url}/commerce/products?page=0`)).status, 400);
    assert.equal((await getJson(`${api.url}/commerce/products?page=abc`)).status, 400);
  });
});

test("customers: page number with has_more yields exactly `customers` records; past the end is empty", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    const records = await walkPages(api.url, "/commerce/customers", 100, (b) => !b.has_more);
    assert.equal(records.length, 1003);
    const past = await getJson(`${api.url}/commerce/customers?page=12&per_page=100`);
    assert.deepEqual(past.body, { data: [], has_more: false });
    const last = await getJson(`${api.url}/commerce/customers?page=11&per_page=100`);
    assert.equal(last.body.data.length, 3);
    assert.equal(last.body.has_more, false);
  });
});

test("sales: offset/limit with total yields exactly `sales` records", async () => {
  await withApi({ seed: 5, sizes: SIZES }, async (api) => {
    const records: unknown[] = [];
    let offset = 0;
    for (;;) {
      const r = await getJson(`${api.url}/commerce/sales?offset=${offset}&limit=64`);
      assert.equal(r.body.total, 777);
      records.push(...r.body.data);
      offset += 64;
      if (offset >= r.body.total) break;
    }
    assert.equal(records.length, 777);
    assert.deepEqual(records, Array.from({ length: 777 }, (_, j) => commerceSale(5, j, 137, 1003)));
    const capped = await getJson(`${api.url}/commerce/sales?limit=5000`);
    assert.equal(capped.body.data.length, 777, "limit is capped at 1000, above the size");
    assert.equal((await getJson(`${api.url}/commerce/sales?offset=-1`)).status, 400);
  });
});

test("drivers: cursor pagination (bearer) yields exactly `drivers` records, limit <= 512", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    const walked = await walkCursor(`${api.url}/fleet/drivers?limit=100`);
    assert.equal(walked.records.length, 1100);
    assert.equal(walked.pages, 11);
    assert.equal(new Set(walked.records.map((d) => d.id)).size, 1100);
    const dflt = await walkCursor(`${api.url}/fleet/drivers?limit=2000`);
    assert.equal(dflt.pages, 3, "limit above 512 is capped at 512");
    assert.equal(dflt.records.length, 1100);
    assert.equal((await getJson(`${api.url}/fleet/drivers?after=not-a-cursor`, BEARER)).status, 400);
  });
});

test("vehicle stats: only records with time in [startTime, endTime), all of them, in order", async () => {
  await withApi({ seed: 3, sizes: SIZES }, async (api) => {
    const start = "2024-01-01T00:00:00Z";
    const end = "2024-01-03T12:00:00Z";
    const walked = await walkCursor(`${api.url}/fleet/vehicles/stats/history?startTime=${start}&endTime=${end}&limit=50`);
    let expected = 0;
    for (let g = 0; g < 4 * 48; g++) {
      const t = fleetStatTimeMs(3, g, 48);
      if (t >= Date.parse(start) && t < Date.parse(end)) expected++;
    }
    assert.equal(expected, 120);
    assert.equal(walked.records.length, expected);
    const times = walked.records.map((r) => Date.parse(r.time));
    for (let k = 0; k < times.length; k++) {
      assert.ok(times[k] >= Date.parse(start) && times[k] < Date.parse(end), walked.records[k].time);
      if (k > 0) assert.ok(times[k] > times[k - 1], "strictly increasing times");
    }
    // an offset-written range selects the same instants
    const shifted = await walkCursor(`${api.url}/fleet/vehicles/stats/history?startTime=2024-01-01T02:00:00%2B02:00&endTime=2024-01-03T14:00:00%2B02:00&limit=512`);
    assert.deepEqual(shifted.records, walked.records);
    const year = await walkCursor(`${api.url}/fleet/vehicles/stats/history?startTime=2023-06-01T00:00:00Z&endTime=2026-01-01T00:00:00Z`);
    assert.equal(year.records.length, 366 * 48);
    assert.equal((await getJson(`${api.url}/fleet/vehicles/stats/history`, BEARER)).status, 400, "startTime is required");
    assert.equal((await getJson(`${api.url}/fleet/vehicles/stats/history?startTime=yesterday`, BEARER)).status, 400);
  });
});

test("air quality: stations single page, hourly readings of readingsDays days plus duplicates, unknown id 404", async () => {
  await withApi({ seed: 11, sizes: SIZES }, async (api) => {
    const stations = await getJson(`${api.url}/v3/stations`);
    assert.equal(stations.body.data.length, 3);
    assert.equal(stations.body.data[0].station_id, "283181971");
    assert.equal(stations.body.data[1].station_id, "283164601");
    for (const s of stations.body.data) {
      const r = await getJson(`${api.url}/v3/getStationHourlyAvg/${s.station_id}`);
      assert.equal(r.status, 200);
      // AirQino's header has no station id (issue 12): the id is only in the request path.
      assert.deepEqual(Object.keys(r.body.header), ["station_name", "station_lat", "station_lon"]);
      assert.equal(r.body.header.station_name, s.station_name);
      const index = stations.body.data.indexOf(s);
      let dups = 0;
      for (let h = 0; h < 72; h++) if (airQualityDuplicated(11, index, h)) dups++;
      assert.equal(r.body.data.length, 72 + dups);
      assert.equal(r.body.data[0].timestamp, "2024-01-01 00:00:00");
      assert.equal(r.body.data[r.body.data.length - 1].timestamp, "2024-01-03 23:00:00");
      assert.deepEqual(Object.keys(r.body.data[0]), ["timestamp", "CO", "PM2.5", "PM10", "NO2", "O3", "T", "T. int.", "RH"]);
    }
    assert.equal((await getJson(`${api.url}/v3/getStationHourlyAvg/999`)).status, 404);
    assert.equal((await getJson(`${api.url}/v3/getStationHourlyAvg/283202234`)).status, 200);
    assert.equal((await getJson(`${api.url}/v3/getStationHourlyAvg/283203351`)).status, 404, "4th station does not exist with 3 stations");
  });
});

test("jobs: /data/all is one page; /jobs/postings follows Link rel=next to exactly `jobs` records", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    const all = await getJson(`${api.url}/data/all`);
    assert.ok(Array.isArray(all.body));
    assert.equal(all.body.length, 233);
    const walked: unknown[] = [];
    let url: string | undefined = `${api.url}/jobs/postings?page=1&per_page=25`;
    let pages = 0;
    while (url !== undefined) {
      const r = await getJson(url);
      assert.equal(r.status, 200);
      walked.push(...r.body);
      url = nextLink(r.headers.get("link"));
      pages++;
      assert.ok(pages <= 20);
    }
    assert.equal(pages, 10);
    assert.equal(walked.length, 233);
    assert.deepEqual(walked, all.body);
  });
});

test("invoices: next URL in the body until null yields exactly `invoices` records", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    const ids: string[] = [];
    let next: string | null = `${api.url}/invoices?limit=100`;
    let pages = 0;
    while (next !== null) {
      assert.ok(next.startsWith(`http://127.0.0.1:${api.port}/invoices?cursor=`) || pages === 0, next);
      const r = await getJson(next);
      assert.equal(r.status, 200);
      ids.push(...r.body.items.map((i: any) => i.invoice_id));
      next = r.body.next;
      pages++;
    }
    assert.equal(pages, 5);
    assert.equal(ids.length, 451);
    assert.equal(new Set(ids).size, 451);
    for (const id of ids) assert.match(id, /^\d{44}$/);
    assert.equal((await getJson(`${api.url}/invoices?cursor=bogus!`)).status, 400);
  });
});

test("sizes of 0 give empty, terminating pages", async () => {
  await withApi({ sizes: { products: 0, customers: 0, drivers: 0, invoices: 0, jobs: 0 } }, async (api) => {
    assert.deepEqual((await getJson(`${api.url}/commerce/products`)).body.meta.total_pages, 0);
    assert.deepEqual((await getJson(`${api.url}/commerce/customers`)).body, { data: [], has_more: false });
    assert.deepEqual((await getJson(`${api.url}/fleet/drivers`, BEARER)).body, { data: [], pagination: { endCursor: "", hasNextPage: false } });
    assert.deepEqual((await getJson(`${api.url}/invoices`)).body, { items: [], next: null });
    const jobs = await getJson(`${api.url}/jobs/postings`);
    assert.deepEqual(jobs.body, []);
    assert.equal(nextLink(jobs.headers.get("link")), undefined);
  });
});

test("KEY header works on cursor routes too", async () => {
  await withApi({ sizes: SIZES }, async (api) => {
    assert.equal((await getJson(`${api.url}/fleet/drivers?limit=1`, KEY)).status, 200);
  });
});
