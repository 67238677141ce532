import { test } from "node:test";
import * as assert from "node:assert/strict";
import { withApi } from "./helpers";

const DATA_PATHS = ["/commerce/products", "/commerce/customers", "/commerce/sales", "/fleet/drivers", "/fleet/vehicles/stats/history?startTime=2024-01-01T00:00:00Z", "/v3/stations", "/v3/getStationHourlyAvg/283181971", "/data/all", "/data?Location=x", "/jobs/postings", "/invoices", "/_stats", "/_faults"];

test("every data and control route answers 401 JSON without credentials, never echoing the key", async () => {
  await withApi({ apiKey: "s3cret-key", bearerToken: "s3cret-token" }, async (api) => {
    for (const p of DATA_PATHS) {
      const variants: Record<string, string>[] = [{}, { "X-API-Key": "wrong" }, { authorization: "Bearer wrong" }, { authorization: "Basic czNjcmV0LWtleQ==" }, { "X-API-Key": "s3cret-token" }];
      for (const headers of variants) {
        const res = await fetch(api.url + p, { headers: headers });
        assert.equal(res.status, 401, `${p} ${JSON.stringify(headers)}`);
        const text = await res.text();
        assert.deepEqual(JSON.parse(text), { error: "unauthorized" });
      }
    }
    const wrongQuery = await fetch(`${api.url}/commerce/products?api_key=s3cret-nope`);
    assert.equal(wrongQuery.status, 401);
    assert.doesNotMatch(await wrongQuery.text(), /s3cret/);
  });
});

test("X-API-Key header, api_key query parameter and bearer token each work", async () => {
  await withApi({ apiKey: "s3cret-key", bearerToken: "s3cret-token" }, async (api) => {
    for (const p of DATA_PATHS) {
      const viaHeader = await fetch(api.url + p, { headers: { "X-API-Key": "s3cret-key" } });
      assert.equal(viaHeader.status, 200, p);
      const sep = p.includes("?") ? "&" : "?";
      const viaQuery = await fetch(`${api.url}${p}${sep}api_key=s3cret-key`);
      assert.equal(viaQuery.status, 200, p);
      const viaBearer = await fetch(api.url + p, { headers: { authorization: "Bearer s3cret-token" } });
      assert.equal(viaBearer.status, 200, p);
      for (const res of [viaHeader, viaQuery, viaBearer]) assert.doesNotMatch(await res.text(), /s3cret/, `${p} echoes a secret`);
    }
  });
});

test("the api_key query parameter is not taken as a /data field filter and not echoed in Link/next URLs", async () => {
  await withApi({}, async (api) => {
    const filtered = await fetch(`${api.url}/data?Location=Seattle&api_key=demo-key`);
    assert.equal(filtered.status, 200);
    assert.ok((await filtered.json()).length > 0);
    const jobs = await fetch(`${api.url}/jobs/postings?api_key=demo-key`);
    assert.doesNotMatch(jobs.headers.get("link") ?? "", /demo-key/);
    const inv = await (await fetch(`${api.url}/invoices?limit=2&api_key=demo-key`)).json();
    assert.doesNotMatch(inv.next, /demo-key/);
  });
});

test("/health needs no credentials and shows no secrets", async () => {
  await withApi({}, async (api) => {
    const res = await fetch(`${api.url}/health`);
    assert.equal(res.status, 200);
    assert.doesNotMatch(await res.text(), /demo-key|demo-token/);
  });
});
