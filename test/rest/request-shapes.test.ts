import { after, before, beforeEach, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { commerceSale, startDemoApi, type DemoApi } from "../../sources/demo-api/index";
import { parseSourceConfig, validateSourceConfig } from "../../sources/rest/config-loader";
import { extractRecords, fetchSeries, requestBody } from "../../sources/rest/fetch-pages";
import { resetGates } from "../../sources/rest/rate-limit";
import { resetOAuth2Tokens } from "../../sources/rest/auth/index";
import { sealForWorkers } from "../../sources/rest/secrets";
import { FAST_RETRY, json, query, startServer } from "./helpers";

const SIZES = { products: 50, sales: 230, customers: 60 };
/** Fast backoff; a generous timeout so a loaded machine does not turn into extra requests the test counts. */
const RETRY = { ...FAST_RETRY, timeoutMs: 10_000 };
const SEED = 5;
let api: DemoApi;
before(async () => {
  api = await startDemoApi({ seed: SEED, sizes: SIZES });
});
after(async () => api?.close());
beforeEach(() => {
  resetGates();
  resetOAuth2Tokens();
});

test("GraphQL cursor pagination: the cursor goes into variables.after of the POST body, records by JSONPath", async () => {
  const source = validateSourceConfig({
    name: "gql", baseUrl: api.url, retry: RETRY, auth: { type: "bearer", token: "demo-token" },
    entities: {
      orders: {
        path: "/commerce/graphql", method: "POST",
        body: { query: "query { orders(first: $first, after: $after) { edges { node { sale_id } } } }", variables: { first: 100, after: null } },
        paginator: { type: "cursor", cursorPath: "data.orders.pageInfo.endCursor", hasMorePath: "data.orders.pageInfo.hasNextPage", cursorBodyPath: "variables.after" },
        recordsPath: "$.data.orders.edges[*].node", primaryKey: ["sale_id"],
      },
    },
  }, "gql.yaml", { env: {} });
  const series = await fetchSeries({ source: source, entity: "orders" }, { runId: "r1" });
  assert.equal(series.complete, true, JSON.stringify(series.deadLetters));
  const expected = Array.from({ length: SIZES.sales }, (_, j) => commerceSale(SEED, j, SIZES.products, SIZES.customers));
  assert.deepEqual(series.pages.flatMap((p) => p.records), expected.filter((s) => typeof s === "object"));
  const rejected = expected.flatMap((s, j) => (typeof s === "number" ? [`record is not a JSON object (${s}) on page ${series.pages[Math.floor(j / 100)].request.page}`] : []));
  assert.equal(rejected.length, 2);
  assert.deepEqual(series.deadLetters.map((d) => d.error), rejected);
  assert.equal(series.pages.length, 3);
  assert.equal(series.pages[0].request.page, "start");
  assert.equal(Buffer.from(series.pages[1].request.page, "base64url").toString(), "v1:orders:100");
  assert.equal(Buffer.from(series.pages[2].request.page, "base64url").toString(), "v1:orders:200");
  assert.equal(api.stats().byPath["/commerce/graphql"], 3);
});

test("requestBody places values at dotted paths without changing the template", () => {
  const template = { query: "q", variables: { first: 10, after: null } };
  assert.equal(requestBody(template, { "variables.after": "c2" }), '{"query":"q","variables":{"first":10,"after":"c2"}}');
  assert.equal(requestBody(template, {}), '{"query":"q","variables":{"first":10,"after":null}}');
  assert.equal(requestBody(undefined, { "page.cursor": "x" }), '{"page":{"cursor":"x"}}');
  assert.deepEqual(template, { query: "q", variables: { first: 10, after: null } });
});

test("header cursor paginator: the next cursor comes in a response header and is sent as a param", async () => {
  const pages: Record<string, { rows: number[]; next?: string }> = { "": { rows: [1, 2], next: "c2" }, c2: { rows: [3], next: "c3" }, c3: { rows: [4, 5] } };
  const server = await startServer((req, res) => {
    const page = pages[query(req).get("cursor") ?? ""];
    json(res, { items: page.rows.map((id) => ({ id: id })) }, 200, page.next ? { "X-Next-Cursor": page.next } : {});
  });
  try {
    const source = validateSourceConfig({
      name: "hc", baseUrl: server.url, retry: RETRY,
      entities: { items: { path: "/items", recordsPath: "items", primaryKey: ["id"], paginator: { type: "header_cursor", header: "X-Next-Cursor" } } },
    }, "hc.yaml", { env: {} });
    const series = await fetchSeries({ source: source, entity: "items" }, { runId: "r1" });
    assert.equal(series.complete, true);
    assert.deepEqual(series.pages.map((p) => [p.request.page, p.records]), [
      ["start", [{ id: 1 }, { id: 2 }]], ["c2", [{ id: 3 }]], ["c3", [{ id: 4 }, { id: 5 }]],
    ]);
    assert.deepEqual(server.requests.map((r) => r.url), ["/items", "/items?cursor=c2", "/items?cursor=c3"]);
  } finally {
    await server.close();
  }
});

test("header cursor that repeats on a non-empty page is a fetch dead letter naming the cursor", async () => {
  const server = await startServer((_req, res, n) => json(res, { items: [{ id: n }] }, 200, { "x-next-cursor": "same" }));
  try {
    const source = validateSourceConfig({
      name: "hcloop", baseUrl: server.url, retry: RETRY,
      entities: { items: { path: "/items", recordsPath: "items", primaryKey: ["id"], paginator: { type: "header_cursor", header: "X-Next-Cursor", cursorParam: "c" } } },
    }, "hc.yaml", { env: {} });
    const series = await fetchSeries({ source: source, entity: "items" }, { runId: "r1" });
    assert.equal(series.complete, false);
    assert.deepEqual(series.deadLetters.map((d) => d.error), ['GET /items page same: header X-Next-Cursor repeated cursor "same" on a non-empty page: the API loops']);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test("JSONPath records paths: matches, an empty list, a filter, a missing shape and a GraphQL error", () => {
  const body = { data: { orders: { edges: [{ node: { id: "a" } }, { node: { id: "b" } }] } } };
  assert.deepEqual(extractRecords(body, "$.data.orders.edges[*].node"), { ok: true, records: [{ id: "a" }, { id: "b" }] });
  assert.deepEqual(extractRecords({ data: { orders: { edges: [] } } }, "$.data.orders.edges[*].node"), { ok: true, records: [] });
  assert.deepEqual(extractRecords({ result: { items: [{ k: 1 }, { k: 2 }] } }, "$.result.items"), { ok: true, records: [{ k: 1 }, { k: 2 }] });
  assert.deepEqual(extractRecords({ items: [{ kind: "a", n: 1 }, { kind: "b", n: 2 }] }, "$.items[?(@.kind === 'b')]"), { ok: true, records: [{ kind: "b", n: 2 }] });
  assert.deepEqual(extractRecords({ data: { customers: {} } }, "$.data.orders.edges[*].node"),
    { ok: false, reason: 'records path "$.data.orders.edges[*].node" matched nothing: body is an object with keys [data]' });
  assert.deepEqual(extractRecords({ errors: [{ message: "throttled" }], data: null }, "$.data.orders.edges[*].node"),
    { ok: false, reason: 'the API answered with an error instead of records: {"errors":[{"message":"throttled"}],"data":null}' });
  assert.deepEqual(extractRecords({ data: [{ id: 1 }] }, "data"), { ok: true, records: [{ id: 1 }] }, "dotted paths keep working");
});

test("entity auth overrides the source's; source and entity headers are merged, ${VAR} values kept secret", async () => {
  const server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/fail") return json(res, { error: "bad", seen: req.headers["x-tenant-key"] }, 400);
    json(res, { data: [{ id: url.pathname }] });
  });
  try {
    const yaml = `
name: mixed
baseUrl: ${server.url}
auth: { type: bearer, token: "\${MIXED_TOKEN}" }
headers: { X-Client: api2lake, X-Tenant-Key: "\${MIXED_TENANT}" }
retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 1000 }
entities:
  plain: { path: /plain, primaryKey: [id] }
  keyed:
    path: /keyed
    primaryKey: [id]
    auth: { type: api_key, location: query, name: key, value: "\${MIXED_KEY}" }
    headers: { X-Client: keyed-entity }
  fail: { path: /fail, primaryKey: [id] }
`;
    const env = { MIXED_TOKEN: "tok-mixed-1234", MIXED_TENANT: "tenant-secret-99", MIXED_KEY: "key-secret-77" };
    const loaded = parseSourceConfig(yaml, "mixed.yaml", { env: env });
    const shipped = sealForWorkers(loaded);
    const text = JSON.stringify(shipped);
    for (const secret of Object.values(env)) assert.ok(!text.includes(secret), `${secret} travels with the config`);
    assert.equal(shipped.entities.keyed.auth?.type === "api_key" && shipped.entities.keyed.auth.value, "${MIXED_KEY}");
    assert.equal(shipped.headers["X-Tenant-Key"], "${MIXED_TENANT}");
    Object.assign(process.env, env);
    try {
      const plain = await fetchSeries({ source: shipped, entity: "plain" }, { runId: "r1" });
      const keyed = await fetchSeries({ source: shipped, entity: "keyed" }, { runId: "r1" });
      const failed = await fetchSeries({ source: shipped, entity: "fail" }, { runId: "r1" });
      assert.deepEqual([plain.complete, keyed.complete, failed.complete], [true, true, false]);
      const sent = server.requests.map((r) => [r.url, r.headers.authorization, r.headers["x-client"], r.headers["x-tenant-key"]]);
      assert.deepEqual(sent, [
        ["/plain", "Bearer tok-mixed-1234", "api2lake", "tenant-secret-99"],
        ["/keyed?key=key-secret-77", undefined, "keyed-entity", "tenant-secret-99"],
        ["/fail", "Bearer tok-mixed-1234", "api2lake", "tenant-secret-99"],
      ]);
      assert.equal(failed.deadLetters.length, 1);
      assert.equal(failed.deadLetters[0].error, 'GET /fail page 1 failed: HTTP 400: {"error":"bad","seen":"t*****9"} (not retryable)');
      assert.ok(!JSON.stringify(keyed.pages).includes("key-secret-77"));
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
    }
  } finally {
    await server.close();
  }
});

test("the schema refuses a body without POST and a body cursor on a GET entity, naming the key path", () => {
  const base = (entity: Record<string, unknown>, source: Record<string, unknown> = {}) => () => validateSourceConfig({
    name: "s", baseUrl: "http://127.0.0.1:9", ...source, entities: { e: { path: "/e", primaryKey: ["id"], ...entity } },
  }, "s.yaml", { env: {} });
  assert.throws(base({ body: { q: 1 } }), /s\.yaml: entities\.e\.body: .*body needs method: POST/);
  assert.throws(base({ paginator: { type: "cursor", cursorBodyPath: "variables.after" } }), /s\.yaml: entities\.e\.paginator\.cursorBodyPath: .*needs method: POST on entity e/);
  assert.throws(base({}, { paginator: { type: "cursor", cursorBodyPath: "variables.after" } }), /s\.yaml: paginator\.cursorBodyPath: .*needs method: POST on entity e/);
  assert.throws(base({}, { auth: { type: "oauth2", tokenUrl: "not a url", clientId: "c", clientSecret: "s" } }), /auth\.tokenUrl/);
  assert.throws(base({ headers: { "Bad Header": "x" } }), /entities\.e\.headers\.Bad Header|must be an HTTP header name/);
});

test("the README's auth and request shapes example runs against the demo API", async () => {
  const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "README.md"), "utf8");
  const start = readme.indexOf("```yaml\n", readme.indexOf("## Auth and request shapes")) + "```yaml\n".length;
  const env = { SHOP_URL: api.url, SHOP_CLIENT_SECRET: "demo-secret", SHOP_TENANT: "t1", SHOP_EXPORT_KEY: "demo-key" };
  const source = parseSourceConfig(readme.slice(start, readme.indexOf("```", start)), "README.md", { env: env });
  const orders = await fetchSeries({ source: source, entity: "orders" }, { runId: "r1" });
  const products = await fetchSeries({ source: source, entity: "products" }, { runId: "r1" });
  assert.deepEqual([orders.complete, products.complete], [true, true]);
  assert.equal(orders.pages.flatMap((p) => p.records).length + orders.deadLetters.length, SIZES.sales);
  assert.equal(products.pages.flatMap((p) => p.records).length, SIZES.products);
  assert.equal(api.tokensIssued().total, 1);
});
