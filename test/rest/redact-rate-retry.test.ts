import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createAuthenticator, maskSecret, redact, secretsOf } from "../../sources/rest/auth/index";
import { acquire, gateFor, resetGates } from "../../sources/rest/rate-limit";
import { backoffDelay, getJsonWithRetry, parseRetryAfter } from "../../sources/rest/retry";
import { json, startServer, FAST_RETRY } from "./helpers";

test("redact removes key values, key query params and Authorization headers", () => {
  const s = secretsOf({ type: "api_key", location: "query", name: "api_key", value: "demo-key" });
  assert.equal(redact("GET http://h/x?a=1&api_key=whatever&b=2", s), "GET http://h/x?a=1&api_key=*****&b=2");
  assert.equal(redact("failed: demo-key rejected", s), "failed: d*****y rejected");
  const b = secretsOf({ type: "bearer", token: "demo-token" });
  assert.equal(redact('{"authorization":"Bearer abc.def"}', b), '{"authorization":"Bearer *****"}');
  assert.equal(redact("Authorization: Bearer demo-token", b), "Authorization: Bearer *****");
  const basic = secretsOf({ type: "basic", username: "user", password: "p@ss word" });
  assert.ok(!redact(`pw=${encodeURIComponent("p@ss word")} header=${Buffer.from("user:p@ss word").toString("base64")}`, basic).includes("p%40ss"));
  assert.equal(maskSecret("demo-key"), "d*****y");
  assert.equal(maskSecret("abc"), "*****");
});

test("authenticators add credentials to a copy of the request only", () => {
  const url = new URL("http://h/x?a=1");
  const headers = { accept: "application/json" };
  const q = createAuthenticator({ type: "api_key", location: "query", name: "api_key", value: "k" }).apply({ url: url, headers: headers });
  assert.equal(q.url.search, "?a=1&api_key=k");
  assert.equal(url.search, "?a=1");
  const h = createAuthenticator({ type: "api_key", location: "header", name: "X-API-Key", value: "k" }).apply({ url: url, headers: headers });
  assert.equal(h.headers["X-API-Key"], "k");
  assert.deepEqual(headers, { accept: "application/json" });
  const basic = createAuthenticator({ type: "basic", username: "u", password: "p" }).apply({ url: url, headers: {} });
  assert.equal(basic.headers.authorization, "Basic dTpw");
  assert.equal(createAuthenticator({ type: "bearer", token: "t" }).apply({ url: url, headers: {} }).headers.authorization, "Bearer t");
});

test("Retry-After: integer, fractional, HTTP date, junk", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter("0.40235", now), 403);
  assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Sun, 31 Dec 2023 23:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

test("backoff is full jitter under an exponential, capped ceiling", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 1 };
  assert.equal(backoffDelay(1, policy, () => 0.999), 99);
  assert.equal(backoffDelay(3, policy, () => 0.5), 200);
  assert.equal(backoffDelay(10, policy, () => 0.999), 999);
  assert.equal(backoffDelay(10, policy, () => 0), 0);
});

test("retry against a local server: 500 then 200; 404 is final; bad JSON retried", async () => {
  const server = await startServer((req, res, n) => {
    if (req.url === "/flaky") return n === 1 ? json(res, { e: 1 }, 500) : json(res, { ok: true });
    if (req.url === "/bad") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end('{"data": [1, 2');
    }
    json(res, { error: "nope" }, 404);
  });
  try {
    const ok = await getJsonWithRetry({ url: new URL(server.url + "/flaky"), headers: {} }, FAST_RETRY);
    assert.deepEqual(ok.ok ? { ok: ok.ok, status: ok.status, body: ok.body, attempts: ok.attempts } : ok, { ok: true, status: 200, body: { ok: true }, attempts: 2 });
    const missing = await getJsonWithRetry({ url: new URL(server.url + "/missing"), headers: {} }, FAST_RETRY);
    assert.equal(missing.ok, false);
    assert.equal(missing.attempts, 1);
    const bad = await getJsonWithRetry({ url: new URL(server.url + "/bad"), headers: {} }, FAST_RETRY);
    assert.equal(bad.ok, false);
    assert.equal(bad.attempts, FAST_RETRY.maxAttempts);
    assert.match(bad.ok ? "" : bad.error, /invalid JSON body/);
  } finally {
    await server.close();
  }
});

test("the rate gate is shared per source and spaces request starts", async () => {
  resetGates();
  const a = gateFor("paced", { requestsPerSecond: 50 });
  const b = gateFor("paced");
  assert.equal(a, b);
  const starts: number[] = [];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 11 }, async () => {
    const release = await acquire(b);
    starts.push(Date.now() - t0);
    release();
  }));
  starts.sort((x, y) => x - y);
  assert.ok(starts[10] >= 195, `11 starts at 50/s took only ${starts[10]} ms`);
  assert.ok(starts[10] < 400, `took ${starts[10]} ms`);
});

test("maxWorkers bounds requests in flight per source", async () => {
  resetGates();
  const gate = gateFor("bounded", { maxWorkers: 3 });
  let now = 0;
  let max = 0;
  await Promise.all(Array.from({ length: 12 }, async () => {
    const release = await acquire(gate);
    now += 1;
    max = Math.max(max, now);
    await new Promise((r) => setTimeout(r, 5));
    now -= 1;
    release();
  }));
  assert.equal(max, 3);
});
