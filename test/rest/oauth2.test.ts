import { after, before, beforeEach, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as http from "http";
import { withName, type PCollection, type Root } from "apache-beam";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import { commerceProduct, commerceSale, startDemoApi, type DemoApi } from "../../sources/demo-api/index";
import { loadSourceConfig, validateSourceConfig } from "../../sources/rest/config-loader";
import { fetchSeries } from "../../sources/rest/fetch-pages";
import { readRest } from "../../sources/rest/read-rest";
import { sealForWorkers } from "../../sources/rest/secrets";
import { resetGates, type Clock } from "../../sources/rest/rate-limit";
import { resetOAuth2Tokens } from "../../sources/rest/auth/index";
import { readTokenResponse, renewAt, tokenRequestBody } from "../../sources/rest/auth/oauth2";
import { FAST_RETRY, collect, json, readLines, startServer } from "./helpers";

requireForSerialization("fs", fs);

const SIZES = { products: 120, sales: 450, customers: 200 };
/** Fast backoff; a generous timeout so a loaded machine does not turn into extra requests the test counts. */
const RETRY = { ...FAST_RETRY, timeoutMs: 10_000 };
const SEED = 11;
const ISSUED_TOKEN = /at-[0-9a-f]{24}/;

beforeEach(() => {
  resetOAuth2Tokens();
  resetGates();
});

/** A clock the test moves by hand, shared by the demo API (token expiry) and the client (early renewal). */
function manualClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: async () => undefined, advance: (ms: number) => { now += ms; } };
}

function oauthSource(url: string, tokenUrl: string, extra: Record<string, unknown> = {}) {
  return validateSourceConfig({
    name: "shop",
    baseUrl: url,
    auth: { type: "oauth2", tokenUrl: tokenUrl, clientId: "demo-client", clientSecret: "${SHOP_SECRET}", scopes: ["commerce.read", "orders"] },
    retry: RETRY,
    entities: {
      orders: {
        path: "/commerce/graphql", method: "POST",
        body: { query: "{ orders(first: $first, after: $after) { edges { node { sale_id } } } }", variables: { first: 100, after: null } },
        paginator: { type: "cursor", cursorPath: "data.orders.pageInfo.endCursor", hasMorePath: "data.orders.pageInfo.hasNextPage", cursorBodyPath: "variables.after" },
        recordsPath: "$.data.orders.edges[*].node", primaryKey: ["sale_id"],
      },
    },
    ...extra,
  }, "shop.yaml", { env: { SHOP_SECRET: "demo-secret" } });
}

function expectedSales(): unknown[] {
  const out: unknown[] = [];
  for (let j = 0; j < SIZES.sales; j++) out.push(commerceSale(SEED, j, SIZES.products, SIZES.customers));
  return out;
}

test("a token that expires mid-run is renewed 60 s early, once, and no page fails", async () => {
  const clock = manualClock(Date.parse("2026-01-01T00:00:00Z"));
  const api = await startDemoApi({ seed: SEED, sizes: SIZES, oauth2: { expiresInSeconds: 3600, now: clock.now } });
  try {
    let pages = 0;
    // After the second page, 59 min 10 s pass: the token (3600 s) is 50 s from expiry, inside the 60 s margin.
    const fetchAndAge: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes("/commerce/graphql") && ++pages === 2) clock.advance(3550_000);
      return response;
    };
    const source = oauthSource(api.url, `${api.url}/oauth/token`);
    const series = await fetchSeries({ source: source, entity: "orders" }, { runId: "r1", clock: clock, fetch: fetchAndAge });
    assert.deepEqual(series.deadLetters.filter((d) => d.stage === "fetch"), []);
    assert.equal(series.complete, true);
    assert.equal(series.pages.length, 5);
    const objects = expectedSales().filter((s) => typeof s === "object");
    assert.deepEqual(series.pages.flatMap((p) => p.records), objects);
    assert.equal(series.deadLetters.length, 3, "the three non-object nodes are parse dead letters");
    assert.deepEqual(api.tokensIssued(), { total: 2, byGrant: { client_credentials: 2 } });
    assert.equal(api.stats().byStatus["401"], undefined, "renewed before expiry, never refused");
    assert.equal(api.stats().byPath["/oauth/token"], 2);
  } finally {
    await api.close();
  }
});

test("a 401 drops the token, one new token is fetched and the request retried once; a second 401 is a dead letter", async () => {
  let issued = 0;
  const tokenServer = await startServer((req, res) => {
    issued += 1;
    json(res, { access_token: `tok-${issued}-secret`, token_type: "bearer", expires_in: 3600 });
    req.resume();
  });
  // tok-1 is revoked at once; later tokens work for /ok, never for /never.
  const api = await startServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const authz = req.headers.authorization ?? "";
    const url = new URL(req.url ?? "/", "http://x");
    if (authz === "Bearer tok-1-secret" || url.pathname === "/never") return json(res, { error: "invalid_token", echo: authz }, 401);
    json(res, { data: [{ id: 1 }, { id: 2 }] });
  });
  try {
    const source = validateSourceConfig({
      name: "revoking", baseUrl: api.url, retry: RETRY,
      auth: { type: "oauth2", tokenUrl: `${tokenServer.url}/token`, clientId: "c", clientSecret: "s3cr3t-value" },
      entities: { ok: { path: "/ok", primaryKey: ["id"] }, never: { path: "/never", primaryKey: ["id"] } },
    }, "r.yaml", { env: {} });
    const good = await fetchSeries({ source: source, entity: "ok" }, { runId: "r1" });
    assert.equal(good.complete, true);
    assert.deepEqual(good.pages.map((p) => [p.records, p.request.attempts]), [[[{ id: 1 }, { id: 2 }], 2]]);
    assert.equal(issued, 2);
    assert.deepEqual(api.requests.map((r) => r.headers.authorization), ["Bearer tok-1-secret", "Bearer tok-2-secret"]);

    const bad = await fetchSeries({ source: source, entity: "never" }, { runId: "r1" });
    assert.equal(bad.complete, false);
    assert.equal(issued, 3, "one refresh for the 401, not one per attempt");
    assert.equal(api.requests.length, 4, "the request was sent twice: once, then once more with a new token");
    assert.equal(bad.deadLetters.length, 1);
    const dl = bad.deadLetters[0];
    assert.match(dl.error, /^GET \/never page 1 failed: HTTP 401: .*invalid_token.* \(not retryable\)$/);
    assert.equal(JSON.parse(dl.payload).attempts, 2);
    const text = JSON.stringify(bad);
    assert.ok(!text.includes("tok-3-secret") && !text.includes("s3cr3t-value"), text);
    // Client authentication: HTTP Basic with the form-encoded id and secret (RFC 6749 2.3.1).
    assert.equal(tokenServer.requests[0].headers.authorization, `Basic ${Buffer.from("c:s3cr3t-value").toString("base64")}`);
    assert.equal(tokenServer.requests[0].method, "POST");
  } finally {
    await api.close();
    await tokenServer.close();
  }
});

test("the token endpoint may be on another origin; the access token goes only to the baseUrl origin", async () => {
  const elsewhere = await startServer((_req, res) => json(res, { data: [{ id: 9 }] }));
  const tokens = await startDemoApi({ seed: SEED, sizes: SIZES });
  try {
    // The API redirects to a foreign origin: the bearer token must not follow.
    const redirecting = await startServer((req, res) => {
      if ((req.url ?? "").startsWith("/jump")) {
        res.writeHead(302, { location: `${elsewhere.url}/landing` });
        return res.end();
      }
      json(res, { data: [] });
    });
    const source = validateSourceConfig({
      name: "jumping", baseUrl: redirecting.url, retry: RETRY,
      auth: { type: "oauth2", tokenUrl: `${tokens.url}/oauth/token`, clientId: "demo-client", clientSecret: "demo-secret" },
      entities: { jump: { path: "/jump", primaryKey: ["id"] } },
    }, "j.yaml", { env: {} });
    const series = await fetchSeries({ source: source, entity: "jump" }, { runId: "r1" });
    assert.equal(series.complete, true);
    assert.deepEqual(series.pages.flatMap((p) => p.records), [{ id: 9 }]);
    assert.match(String(redirecting.requests[0].headers.authorization), /^Bearer at-/);
    assert.equal(elsewhere.requests[0].headers.authorization, undefined);
    assert.equal(tokens.tokensIssued().total, 1);
    assert.deepEqual(tokens.stats().byPath, { "/oauth/token": 1 }, "nothing but the token request went to the token origin");
    await redirecting.close();
  } finally {
    await elsewhere.close();
    await tokens.close();
  }
});

test("token requests: client credentials or refresh grant, scopes space-separated; responses checked; early renewal bounded", () => {
  const config = oauthSource("http://127.0.0.1:9", "http://127.0.0.1:9/token").auth;
  assert.equal(config.type, "oauth2");
  if (config.type !== "oauth2") return;
  assert.equal(tokenRequestBody(config, undefined).toString(), "grant_type=client_credentials&scope=commerce.read+orders");
  assert.equal(tokenRequestBody(config, "r/1").toString(), "grant_type=refresh_token&refresh_token=r%2F1&scope=commerce.read+orders");
  assert.deepEqual(readTokenResponse({ access_token: "a", token_type: "Bearer", expires_in: "30" }), { ok: true, accessToken: "a", expiresInMs: 30_000 });
  assert.deepEqual(readTokenResponse({ access_token: "a", token_type: "mac" }), { ok: false, reason: 'token_type "mac" is not Bearer (RFC 6750)' });
  assert.deepEqual(readTokenResponse({ error: "invalid_client" }), { ok: false, reason: "token response has no access_token" });
  assert.equal(renewAt(1000, 3_600_000, 60), 1000 + 3_540_000);
  assert.equal(renewAt(1000, 30_000, 60), 1000 + 15_000, "a short token lives half its life");
  assert.equal(renewAt(1000, undefined, 60), undefined);
});

test("refresh-token flow: the refresh grant is used, a wrong refresh token is a fetch dead letter without secrets", async () => {
  const api = await startDemoApi({ seed: SEED, sizes: SIZES, oauth2: { refreshToken: "rt-good-1234" } });
  try {
    const make = (refresh: string) => oauthSource(api.url, `${api.url}/oauth/token`, {
      name: `refresh_${refresh.replace(/-/g, "_")}`,
      auth: { type: "oauth2", tokenUrl: `${api.url}/oauth/token`, clientId: "demo-client", clientSecret: "demo-secret", refreshToken: refresh },
    });
    const good = await fetchSeries({ source: make("rt-good-1234"), entity: "orders" }, { runId: "r1" });
    assert.equal(good.complete, true);
    assert.deepEqual(api.tokensIssued(), { total: 1, byGrant: { refresh_token: 1 } });
    const bad = await fetchSeries({ source: make("rt-bad-5678"), entity: "orders" }, { runId: "r1" });
    assert.equal(bad.complete, false);
    assert.equal(bad.deadLetters.length, 1);
    assert.equal(bad.deadLetters[0].error,
      `POST /commerce/graphql page start: no credentials: OAuth2 token request to ${api.url}/oauth/token failed after 1 attempt(s): HTTP 400: {"error":"invalid_grant"}`);
    assert.ok(!JSON.stringify(bad).includes("rt-bad-5678"));
    assert.equal(api.stats().byPath["/commerce/graphql"], 5, "no API request without a token");
  } finally {
    await api.close();
  }
});


let shared: DemoApi;
before(async () => {
  // Each token serves 5 API requests, then answers 401 (expired): the run needs exactly one renewal.
  shared = await startDemoApi({ seed: SEED, sizes: SIZES, oauth2: { maxUsesPerToken: 5 } });
});
after(async () => shared?.close());

test("commerce-oauth2 preset on the direct runner: token expires mid-run, renewed once, exact records, no secret out", async () => {
  const env = { API2LAKE_DEMO_URL: shared.url, API2LAKE_DEMO_CLIENT_SECRET: "demo-secret" };
  const source = loadSourceConfig("presets/commerce-oauth2.yaml", { env: env });
  assert.ok(!JSON.stringify(sealForWorkers(source)).includes("demo-secret"), "workers get the reference, not the secret");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-run-"));
  const files = { records: path.join(dir, "records.ndjson"), pages: path.join(dir, "pages.ndjson"), dead: path.join(dir, "dead.ndjson") };
  process.env.API2LAKE_DEMO_CLIENT_SECRET = "demo-secret";
  try {
    await directRunner().run((root: Root) => {
      const out = root.apply(readRest(source, { runId: "run-oauth", maxWorkers: 1 }));
      collect(out.records, files.records, "CollectRecords");
      collect(out.pages, files.pages, "CollectPages");
      collect(out.deadLetters, files.dead, "CollectDeadLetters");
    });
  } finally {
    delete process.env.API2LAKE_DEMO_CLIENT_SECRET;
  }
  const records = readLines(files.records);
  const dead = readLines(files.dead);
  const pages = readLines(files.pages);
  const products = Array.from({ length: SIZES.products }, (_, i) => commerceProduct(SEED, i));
  const orders = expectedSales().filter((s) => typeof s === "object");
  const byEntity = (e: string) => records.filter((r) => r.entity === e).map((r) => r.record).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.parse(JSON.stringify(x))).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  assert.deepEqual(byEntity("products"), sorted(products));
  assert.deepEqual(byEntity("orders"), sorted(orders));
  assert.deepEqual(dead.map((d) => d.stage), ["parse", "parse", "parse"]);
  assert.equal(pages.length, 7);
  assert.deepEqual(shared.tokensIssued(), { total: 2, byGrant: { client_credentials: 2 } });
  assert.equal(shared.stats().byStatus["401"], 1, "the expired token was refused once, then renewed");
  const everything = [records, pages, dead].map((x) => JSON.stringify(x)).join("\n");
  assert.ok(!everything.includes("demo-secret"));
  assert.ok(!ISSUED_TOKEN.test(everything), "an access token reached the outputs");
});
