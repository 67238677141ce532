import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commerceSale, startDemoApi } from "../../sources/demo-api/index";
import { executeRun } from "../../pipeline/run";
import { loadSourceConfig } from "../../sources/rest/config-loader";
import { resetOAuth2Tokens } from "../../sources/rest/auth/index";
import { filesUnder, sql, type Row } from "../golden/helpers";

const SEED = 42;
const SIZES = { products: 30, customers: 80, sales: 250 };

test("commerce-oauth2 preset, full run: hub.orders from GraphQL pages behind short-lived tokens, no secret landed", async () => {
  resetOAuth2Tokens();
  // Each token serves 2 API requests: products (1 page) + orders (3 pages) = 4 requests, so the third is
  // refused (401), a second token is fetched, and it serves the third (again) and the fourth.
  const api = await startDemoApi({ seed: SEED, sizes: SIZES, oauth2: { maxUsesPerToken: 2 } });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-oauth2-run-"));
  const env = { API2LAKE_DEMO_URL: api.url, API2LAKE_DEMO_CLIENT_SECRET: "demo-secret" };
  Object.assign(process.env, env);
  try {
    const source = loadSourceConfig("presets/commerce-oauth2.yaml", { env: env });
    const manifest = await executeRun({ sources: [source], entities: "ALL", options: { out: out, runner: "direct", sink: "local", requestConcurrency: 1 } });
    assert.equal(manifest.status, "succeeded");
    const want: Row[] = [];
    for (let j = 0; j < SIZES.sales; j++) {
      const s = commerceSale(SEED, j, SIZES.products, SIZES.customers);
      if (typeof s !== "number" && typeof s.quantity === "number") want.push({ sale_id: s.sale_id, quantity: s.quantity, amount: s.amount });
    }
    assert.deepEqual(await sql(out, "SELECT sale_id, quantity, amount FROM hub.orders ORDER BY sale_id"), want);
    assert.deepEqual(await sql(out, "SELECT count(*)::INTEGER AS n FROM hub.products"), [{ n: SIZES.products }]);
    assert.deepEqual(api.tokensIssued(), { total: 2, byGrant: { client_credentials: 2 } });
    assert.equal(api.stats().byStatus["401"], 1);
    const landed = filesUnder(out).filter((f) => !f.endsWith(".duckdb")).map((f) => fs.readFileSync(f, "utf8")).join("\n");
    assert.ok(landed.includes("S0000001"), "the scan reads the lake");
    assert.ok(!landed.includes("demo-secret"));
    assert.ok(!/at-[0-9a-f]{24}/.test(landed), "an access token landed");
    const hubText = JSON.stringify(await sql(out, "SELECT * FROM hub.orders")) + JSON.stringify(await sql(out, "SELECT * FROM lake.orders"));
    assert.ok(!hubText.includes("demo-secret") && !/at-[0-9a-f]{24}/.test(hubText));
  } finally {
    for (const name of Object.keys(env)) delete process.env[name];
    await api.close();
  }
});
