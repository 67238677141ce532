import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BEARER, getJson, walkCursor, walkPages, withApi } from "./helpers";
import { SIGNUP_FORMATS, commerceCustomerSignup, customerKind } from "../../sources/demo-api/datasets/commerce";

test("customers: ~3% duplicates with later updated_at, malformed records, mixed phones and signup dates", async () => {
  await withApi({ seed: 42 }, async (api) => {
    const records = (await walkPages(api.url, "/commerce/customers", 500, (b) => !b.has_more)) as any[];
    assert.equal(records.length, 1000);
    const objects = records.filter((r) => typeof r === "object" && r !== null);
    const notObjects = records.filter((r) => typeof r !== "object" || r === null);
    assert.ok(notObjects.length >= 1, "a record that is not an object");
    assert.equal(typeof records[13], "string");
    const missingId = objects.filter((r) => !("customer_id" in r));
    assert.ok(missingId.length >= 1, "a customer without customer_id");
    assert.equal(records[7].customer_id, undefined);

    const firstSeen = new Map<string, any>();
    let duplicates = 0;
    let changed = 0;
    for (const r of objects) {
      if (r.customer_id === undefined) continue;
      const prev = firstSeen.get(r.customer_id);
      if (prev === undefined) firstSeen.set(r.customer_id, r);
      else {
        duplicates++;
        assert.ok(Date.parse(r.updated_at) > Date.parse(prev.updated_at), `${r.customer_id} repeats with a later updated_at`);
        if (JSON.stringify(Object.assign({}, r, { updated_at: "" })) !== JSON.stringify(Object.assign({}, prev, { updated_at: "" }))) changed++;
      }
    }
    assert.ok(duplicates >= 15 && duplicates <= 50, `duplicates ${duplicates} ~3% of 1000`);
    assert.ok(changed >= 1, "some duplicates change a field");
    assert.ok(changed < duplicates, "some duplicates change nothing but updated_at");
    assert.equal(duplicates, records.filter((_, j) => customerKind(42, j) === "duplicate").length);
    for (const r of objects) {
      assert.match(r.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(["FR", "US", "GB"].includes(r.country));
      if (r.customer_id !== undefined) assert.match(r.customer_id, /^C\d{6,}$/);
    }

    const phones = objects.map((r) => r.phone);
    for (const invalid of ["12345", "", null]) assert.ok(phones.includes(invalid), `invalid phone ${JSON.stringify(invalid)}`);
    const patterns: Record<string, RegExp> = {
      "+33 6 12 34 56 78": /^\+33 [67]( \d\d){4}$/,
      "06 12 34 56 78": /^0[67]( \d\d){4}$/,
      "0033612345678": /^0033[67]\d{8}$/,
      "(415) 555-0132": /^\(\d{3}\) \d{3}-\d{4}$/,
      "415.555.0132": /^\d{3}\.\d{3}\.\d{4}$/,
      "+44 20 7946 0958": /^\+44 20 \d{4} \d{4}$/,
      "020 7946 0958": /^020 \d{4} \d{4}$/,
    };
    for (const name of Object.keys(patterns)) assert.ok(phones.some((p) => typeof p === "string" && patterns[name].test(p)), `a phone like ${name}`);

    const dates = objects.map((r) => r.signup_date);
    const datePatterns: Record<string, (v: unknown) => boolean> = {
      iso_date: (v) => typeof v === "string" && /^\d{4}-\d\d-\d\d$/.test(v),
      dmy: (v) => typeof v === "string" && /^\d\d\/\d\d\/\d{4}$/.test(v),
      iso_offset: (v) => typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(v),
      epoch_seconds: (v) => typeof v === "number" && Number.isInteger(v) && v > 1.5e9 && v < 1.8e9,
      rfc2822: (v) => typeof v === "string" && /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/.test(v),
    };
    for (const f of SIGNUP_FORMATS) assert.ok(dates.filter(datePatterns[f]).length >= 50, `signup_date format ${f}`);
    assert.ok(dates.every((v) => Object.values(datePatterns).some((ok) => ok(v))), "no other formats");
    // every format denotes the same local day the generator intended
    const c0 = commerceCustomerSignup(42, 0);
    assert.equal(records[0].signup_date, c0.value);
    for (let p = 0; p < 60; p++) {
      const s = commerceCustomerSignup(42, p);
      if (s.format === "rfc2822" || s.format === "iso_offset") assert.equal(Date.parse(String(s.value)), Math.floor(s.epochMs / 1000) * 1000);
      if (s.format === "epoch_seconds") assert.equal(s.value, Math.floor(s.epochMs / 1000));
    }
  });
});

test("products have some string prices; sales have a quantity 'many', a non-object, and valid references", async () => {
  await withApi({ seed: 42 }, async (api) => {
    const products = (await getJson(`${api.url}/commerce/products?per_page=500`)).body.data as any[];
    assert.ok(products.some((p) => typeof p.price === "string" && /^\d+\.\d\d$/.test(p.price)));
    assert.ok(products.filter((p) => typeof p.price === "number").length > products.length / 2);
    const sales = (await getJson(`${api.url}/commerce/sales?limit=1000`)).body.data as any[];
    assert.ok(sales.some((s) => s !== null && typeof s === "object" && s.quantity === "many"));
    assert.ok(sales.some((s) => typeof s !== "object" || s === null));
    const customers = (await walkPages(api.url, "/commerce/customers", 500, (b) => !b.has_more)) as any[];
    const ids = new Set(customers.filter((c) => c !== null && typeof c === "object").map((c) => c.customer_id));
    const productIds = new Set(products.map((p) => p.product_id));
    for (const s of sales) {
      if (typeof s !== "object" || s === null) continue;
      assert.ok(ids.has(s.customer_id), `sale ${s.sale_id} references customer ${s.customer_id}`);
      assert.ok(productIds.has(s.product_id));
      assert.match(s.sold_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      if (typeof s.quantity === "number") assert.ok(Number.isInteger(s.quantity) && s.quantity > 0);
    }
  });
});

test("fleet: digits-only and +1 phones, nested settings, some drivers without a vehicle", async () => {
  await withApi({}, async (api) => {
    const drivers = (await walkCursor(`${api.url}/fleet/drivers`)).records;
    assert.ok(drivers.some((d) => /^\d{10}$/.test(d.phone)), "digits-only phones");
    assert.ok(drivers.some((d) => /^\+1\d{10}$/.test(d.phone)), "+1 phones");
    assert.ok(drivers.some((d) => d.vehicle === undefined));
    assert.ok(drivers.some((d) => d.vehicle !== undefined && typeof d.vehicle.id === "string" && typeof d.vehicle.name === "string"));
    assert.ok(drivers.some((d) => d.tags.length === 0) && drivers.some((d) => d.tags.length > 1));
    for (const d of drivers) {
      assert.equal(typeof d.eldSettings.rulesets[0].cycle, "string");
      assert.ok(!Number.isNaN(Date.parse(d.updatedAtTime)) && /Z$/.test(d.updatedAtTime));
      assert.ok(!Number.isNaN(Date.parse(d.createdAtTime)));
    }
    const stats = (await getJson(`${api.url}/fleet/vehicles/stats/history?startTime=2024-05-01T00:00:00Z&endTime=2024-05-03T00:00:00Z`, BEARER)).body.data as any[];
    assert.equal(stats.length, 2 * 96);
    assert.ok(stats.every((s) => typeof s.gps.reverseGeo.formattedLocation === "string" && typeof s.engineState.value === "string"));
    assert.ok(stats.some((s) => s.fuelPercent === undefined) && stats.some((s) => typeof s.fuelPercent?.value === "number"));
  });
});

test("air quality: nulls, -1, 'n/a' and duplicated timestamps exist; timestamps carry no zone", async () => {
  await withApi({}, async (api) => {
    const r = await getJson(`${api.url}/v3/getStationHourlyAvg/283181971`);
    const rows = r.body.data as any[];
    assert.ok(rows.every((x) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(x.timestamp)));
    assert.ok(rows.some((x) => x.CO === null));
    assert.ok(rows.some((x) => x["PM2.5"] === null));
    assert.ok(rows.some((x) => Object.values(x).includes(-1)));
    assert.ok(rows.some((x) => Object.values(x).includes("n/a")));
    const seen = new Set<string>();
    const dups = rows.filter((x) => (seen.has(x.timestamp) ? true : (seen.add(x.timestamp), false)));
    assert.ok(dups.length >= 1);
    assert.equal(seen.size, 14 * 24, "every hour of readingsDays days");
    const ok = rows.filter((x) => typeof x.CO === "number" && x.CO >= 0);
    assert.ok(ok.length > rows.length * 0.9, "mostly clean");
  });
});

test("jobs: /data?Location=Seattle filters case-insensitively; AND of fields; invalid regex 400; duplicate ids", async () => {
  await withApi({}, async (api) => {
    const all = (await getJson(`${api.url}/data/all`)).body as any[];
    const seattle = (await getJson(`${api.url}/data?Location=Seattle`)).body as any[];
    assert.deepEqual(seattle, all.filter((p) => /seattle/i.test(p.Location)));
    assert.ok(seattle.length > 0 && seattle.length < all.length);
    assert.ok(seattle.some((p) => p.Location !== p.Location.trim()), "stray spaces survive");
    assert.ok(seattle.some((p) => p.Location.includes("/")), "multi-city values match");
    const python = (await getJson(`${api.url}/data?Key%20Skills=python`)).body as any[];
    assert.deepEqual(python, all.filter((p) => /python/i.test(p["Key Skills"])));
    assert.ok(python.some((p) => p["Key Skills"].includes("python")) && python.some((p) => p["Key Skills"].includes("Python")));
    const both = (await getJson(`${api.url}/data?Key%20Skills=python&Location=%5Ebangalore`)).body as any[];
    assert.deepEqual(both, all.filter((p) => /python/i.test(p["Key Skills"]) && /^bangalore/i.test(p.Location)));
    assert.ok(both.length > 0 && both.length < python.length);
    assert.equal((await getJson(`${api.url}/data?Location=(`)).status, 400);
    assert.equal((await getJson(`${api.url}/data?Nope=x`)).status, 400);
    const ids = all.map((p) => p.id);
    assert.ok(new Set(ids).size < ids.length, "a few duplicate ids");
    assert.ok(ids.length - new Set(ids).size <= ids.length * 0.05);
    assert.ok(all.some((p) => /\|/.test(p["Key Skills"]) && /,/.test(p["Key Skills"])), "pipe and comma mixed");
    for (const p of all) assert.match(p["Crawl Timestamp"], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/);
  });
});

test("invoices: -03:00 timestamps, NF-e shapes, a string total with a decimal comma", async () => {
  await withApi({}, async (api) => {
    const items = (await getJson(`${api.url}/invoices?limit=200`)).body.items as any[];
    assert.equal(items.length, 200);
    for (const inv of items) {
      assert.match(inv.issued_at, /-03:00$/);
      assert.match(inv.issuer.cnpj, /^\d\d\.\d{3}\.\d{3}\/\d{4}-\d\d$/);
      assert.ok(inv.items.length >= 1);
      if (typeof inv.total === "number") {
        const sum = inv.items.reduce((s: number, it: any) => s + it.quantity * it.unit_price, 0);
        assert.ok(Math.abs(sum - inv.total) < 0.01);
      }
    }
    assert.match(items[23].total, /^\d+,\d\d$/);
    assert.ok(new Set(items.map((i) => i.issuer.cnpj)).size <= 12, "a small pool of issuers");
    assert.ok(items.some((i) => i.status !== "authorized"));
  });
});
