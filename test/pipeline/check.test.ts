import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi } from "../../sources/demo-api/index";
import { runCli } from "../support/cli-process";
import { json, startServer } from "../rest/helpers";

// `api2lake check` against the demo API's presets and a top-level-array API, run as a user would.

const DEMO_ENV = (url: string) => ({ API2LAKE_DEMO_URL: url, API2LAKE_DEMO_API_KEY: "demo-key", API2LAKE_DEMO_TOKEN: "demo-token" });

test("check commerce: first page of each entity, landed columns and types, next request; exit 0", async () => {
  const api = await startDemoApi({ seed: 42 });
  try {
    const result = await runCli(["check", "--config", "commerce", "--entities", "products,sales"], DEMO_ENV(api.url));
    assert.equal(result.code, 0, result.stderr);
    const expected = [
      "commerce.products",
      `  request:   GET ${api.url}/commerce/products?page=1&per_page=100`,
      "  status:    200",
      "  records:   100 at data",
      "  first record as landed:",
      "    column      type       from      source path  value",
      "    product_id  string     declared  product_id   \"P0001\"",
      "    name        string     declared  name         \"Eco Rake\"",
      "    category    string     declared  category     \"Garden\"",
      "    price       number     declared  price        380.03",
      "    updated_at  timestamp  declared  updated_at   \"2024-01-01T00:26:52.000Z\"",
      "  declared fields not found: none",
      `  next:      ${api.url}/commerce/products?page=2&per_page=100`,
      "",
      "commerce.sales",
      `  request:   GET ${api.url}/commerce/sales?offset=0&limit=100`,
      "  status:    200",
      "  records:   99 at data (1 not objects)",
      "  first record as landed:",
      "    column       type       from      source path  value",
      "    sale_id      string     declared  sale_id      \"S0000001\"",
      "    customer_id  string     declared  customer_id  \"C000892\"",
      "    product_id   string     declared  product_id   \"P0087\"",
      "    quantity     integer    declared  quantity     4",
      "    amount       number     declared  amount       87.96",
      "    sold_at      timestamp  declared  sold_at      \"2024-01-01T00:02:39.000Z\"",
      "  declared fields not found: none",
      `  next:      ${api.url}/commerce/sales?offset=100&limit=100`,
      "",
      "check: all 2 entities answered (nothing was written)",
      "",
    ].join("\n");
    assert.equal(result.stdout, expected);
  } finally {
    await api.close();
  }
});

test("check fleet reads the first slice of --from; airquality's query api key is masked", async () => {
  const api = await startDemoApi({ seed: 42 });
  try {
    const fleet = await runCli(["check", "--config", "fleet", "--entities", "vehicle_stats", "--from", "2024-01-02"], DEMO_ENV(api.url));
    assert.equal(fleet.code, 0, fleet.stderr);
    const lines = fleet.stdout.split("\n");
    assert.equal(lines[1], `  request:   GET ${api.url}/fleet/vehicles/stats/history?startTime=2024-01-02T00%3A00%3A00.000Z&endTime=2024-01-03T00%3A00%3A00.000Z&limit=512`);
    assert.equal(lines[3], "  records:   96 at data");
    assert.ok(lines.includes("    gps_latitude                        number     inferred  gps.latitude                      39.540966"));
    assert.ok(lines.includes("    fuel_percent_value                  integer    inferred  fuelPercent.value                 7"));
    const air = await runCli(["check", "--config", "airquality", "--from", "2024-01-01"], DEMO_ENV(api.url));
    assert.equal(air.code, 0, air.stderr);
    // The request is shown without the credentials auth adds (the api_key query parameter).
    assert.equal(air.stdout.split("\n")[1], `  request:   GET ${api.url}/v3/getStationHourlyAvg/283181971?start_date=20240101-0000&end_date=20240102-0000`);
    assert.doesNotMatch(air.stdout + air.stderr, /demo-key/);
    // check accepts no --out: it has nowhere to write.
    const out = await runCli(["check", "--config", "commerce", "--out", os.tmpdir()], DEMO_ENV(api.url));
    assert.equal(out.code, 2);
    assert.match(out.stderr, /unknown option --out for "check"/);
  } finally {
    await api.close();
  }
});

/** A config for the top-level-array server, written to a temp file. */
function arrayConfig(url: string, recordsPath: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-array-"));
  const file = path.join(dir, "orders.yaml");
  fs.writeFileSync(file, [
    "name: shop",
    `baseUrl: ${url}`,
    "entities:",
    "  orders:",
    "    path: /orders",
    `    recordsPath: "${recordsPath}"`,
    "    primaryKey: [id]",
    "    fields:",
    "      id: { type: integer, required: true }",
    "      coupon: { type: string }",
    "",
  ].join("\n"));
  return file;
}

test("check a top-level-array API: records at (body), inferred types; a wrong records path exits 1 with the hint", async () => {
  const orders = [
    { id: 1, total: "52.5", paid: true, placedAt: "2024-03-01T10:00:00Z", customer: { name: "Ada" } },
    { id: 2, total: 7, paid: false, placedAt: "2024-03-02T11:00:00+01:00", customer: { name: "Bob" } },
  ];
  const server = await startServer((_req, res) => json(res, orders));
  try {
    const ok = await runCli(["check", "--config", arrayConfig(server.url, "")]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, [
      "shop.orders",
      `  request:   GET ${server.url}/orders`,
      "  status:    200",
      "  records:   2 at (body)",
      "  first record as landed:",
      "    column         type       from      source path    value",
      "    id             integer    declared  id             1",
      "    total          number     inferred  total          52.5",
      "    paid           boolean    inferred  paid           true",
      "    placed_at      timestamp  inferred  placedAt       \"2024-03-01T10:00:00Z\"",
      "    customer_name  string     inferred  customer.name  \"Ada\"",
      "    coupon         string     declared                 null",
      "  declared fields not found: coupon",
      "  next:      none (the paginator stops after this page)",
      "",
      "check: all 1 entities answered (nothing was written)",
      "",
    ].join("\n"));
    const wrong = await runCli(["check", "--config", arrayConfig(server.url, "data")]);
    assert.equal(wrong.code, 1);
    const lines = wrong.stdout.split("\n");
    assert.equal(lines[2], "  status:    200");
    assert.equal(lines[3], "  error:     GET /orders page 1: records path \"data\" matched nothing: body is a JSON array: set recordsPath: \"\"");
    assert.equal(lines[4], "  records:   0 at data");
    assert.equal(lines[lines.length - 2], "check: 1 of 1 entities did not answer");
  } finally {
    await server.close();
  }
});
