import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import { openSecrets, sealForWorkers, resolveAuthSecrets } from "../../sources/rest/secrets";
import { fetchSeries } from "../../sources/rest/fetch-pages";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";

const TOKEN = "tok-" + Math.random().toString(36).slice(2);
let api: DemoApi;
before(async () => {
  api = await startDemoApi({ port: 0, bearerToken: TOKEN, sizes: { drivers: 30 } });
});
after(async () => api?.close());

const yaml = (url: string) => `
name: fleet_secret
baseUrl: ${url}
auth: { type: bearer, token: "\${FLEET_SECRET_TOKEN}" }
paginator: { type: cursor, cursorParam: after, cursorPath: pagination.endCursor, hasMorePath: pagination.hasNextPage }
entities:
  drivers: { path: /fleet/drivers, primaryKey: [id] }
`;

test("the config shipped to workers holds a reference to the secret, resolved where the request is made", async () => {
  const env = { FLEET_SECRET_TOKEN: TOKEN };
  const loaded = parseSourceConfig(yaml(api.url), "fleet.yaml", { env: env });
  assert.equal(loaded.auth.type === "bearer" && loaded.auth.token, TOKEN, "the driver sees the value");
  const shipped = sealForWorkers(loaded);
  assert.ok(!JSON.stringify(shipped).includes(TOKEN), "the secret travels with the config");
  assert.ok(JSON.stringify(shipped).includes("${FLEET_SECRET_TOKEN}"));
  assert.deepEqual(resolveAuthSecrets(shipped.auth, env), loaded.auth);
  assert.throws(() => resolveAuthSecrets(shipped.auth, {}), /auth.token: environment variable FLEET_SECRET_TOKEN is not set where the request is made/);

  process.env.FLEET_SECRET_TOKEN = TOKEN;
  try {
    const series = await fetchSeries({ source: shipped, entity: "drivers" }, { runId: "r1" });
    assert.equal(series.complete, true, JSON.stringify(series.deadLetters));
    assert.equal(series.pages.flatMap((p) => p.records).length, 30);
  } finally {
    delete process.env.FLEET_SECRET_TOKEN;
  }
});

test("a config built in code (no references) is shipped as it is", () => {
  const loaded = parseSourceConfig(yaml("http://127.0.0.1:9").replace("${FLEET_SECRET_TOKEN}", "literal"), "f.yaml", { env: {} });
  assert.equal(sealForWorkers(loaded), loaded);
});

test("openSecrets resolves a sealed config where the request is made and lists every non-public value to mask", () => {
  const env = { S_KEY: "key-123456", S_HOST: "127.0.0.1:9", S_PARAM: "param-abcdef" };
  const loaded = parseSourceConfig(`
name: opened
baseUrl: http://\${S_HOST}
publicVariables: [S_HOST]
auth: { type: api_key, location: query, name: api_key, value: "\${S_KEY}" }
entities:
  items: { path: /items, params: { p: "\${S_PARAM}", size: "\${S_SIZE:-50}" }, primaryKey: [id] }
`, "opened.yaml", { env: env });
  const sealed = sealForWorkers(loaded);
  const opened = openSecrets(sealed, env);
  assert.deepEqual(opened.source, JSON.parse(JSON.stringify(loaded)));
  assert.deepEqual(opened.secrets.queryParams, ["api_key"]);
  assert.deepEqual(opened.secrets.values.sort(), ["key-123456", "param-abcdef"]);
  assert.deepEqual(openSecrets(loaded, {}).secrets.values.sort(), ["key-123456", "param-abcdef"], "the driver knows the values it loaded");
  assert.throws(() => openSecrets(sealed, { S_HOST: "127.0.0.1:9", S_KEY: "k" }), { message: "entities.items.params.p: environment variable S_PARAM is not set where the request is made" });
});
