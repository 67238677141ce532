import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadSourceConfig, parseSourceConfig, SourceConfigError, validateSourceConfig } from "../../sources/rest/config-loader";

const FILE = "presets/commerce.yaml";

const base = () => ({
  name: "commerce",
  baseUrl: "http://localhost:8080",
  auth: { type: "api_key", name: "X-API-Key", value: "demo-key" },
  entities: {
    customers: { path: "/commerce/customers", primaryKey: ["id"], paginator: { type: "page_number", hasMorePath: "has_more" } },
  },
});

type Mutator = (c: any) => void;
const cases: [string, Mutator, RegExp | string][] = [
  ["unknown paginator type", (c) => (c.entities.customers.paginator.type = "pages"),
    `${FILE}: entities.customers.paginator.type: "pages" is not one of single_page, page_number, offset, cursor, header_cursor, next_url, link_header`],
  ["unknown auth type", (c) => (c.auth = { type: "oauth", token: "x" }), /auth\.type: "oauth" is not one of none, api_key, bearer, basic/],
  ["bad slice format", (c) => (c.entities.customers.slices = { startParam: "from", format: "dates" }),
    // A luxon pattern is a format too (issue 12): "dates" is refused as one that cannot read a time back.
    `${FILE}: entities.customers.slices.format: "dates" is invalid (must be iso, date, epoch_ms or a luxon pattern that writes a time and reads it back (e.g. yyyyMMdd-HHmm))`],
  ["unexpected field lists the valid ones", (c) => (c.entities.customers.paginatr = {}),
    /entities\.customers: unexpected field "paginatr" \(valid fields: path, pathParams, params, recordsPath, attach, paginator,/],
  ["unexpected field inside a paginator variant", (c) => (c.entities.customers.paginator.pageSize = 5),
    /entities\.customers\.paginator: unexpected field "pageSize" \(valid fields: type, pageParam, startPage, sizeParam, size, totalPagesPath, hasMorePath\)/],
  ["path must start with a slash", (c) => (c.entities.customers.path = "commerce/customers"), /entities\.customers\.path: "commerce\/customers" is invalid/],
  ["missing primary key", (c) => delete c.entities.customers.primaryKey, /entities\.customers\.primaryKey: required array is missing/],
  ["wrong type", (c) => (c.retry = { maxAttempts: "five" }), /retry\.maxAttempts: "five" is not a number/],
  ["bad base URL", (c) => (c.baseUrl = "not a url"), /baseUrl: "not a url" is invalid/],
  ["bad entity name", (c) => (c.entities["Bad-Name"] = c.entities.customers), /entities\.Bad-Name/],
  ["bad source name", (c) => (c.name = "Commerce"), /name: "Commerce" is invalid/],
];

for (const [name, mutate, expected] of cases) {
  test(`config error: ${name}`, () => {
    const config = base();
    mutate(config);
    const snapshot = JSON.stringify(config);
    assert.throws(() => validateSourceConfig(config, FILE, { env: {} }), (error: unknown) => {
      assert.ok(error instanceof SourceConfigError);
      const message = (error as Error).message;
      if (typeof expected === "string") assert.ok(message.split("\n").includes(expected), `${message}\n  should include line\n${expected}`);
      else assert.match(message, expected);
      assert.ok(message.startsWith(`${FILE}: `));
      assert.ok(!message.includes("demo-key"), "the secret leaked into the message");
      return true;
    });
    assert.equal(JSON.stringify(config), snapshot, "the input was mutated");
  });
}

test("a secret is masked when it is itself the bad value", () => {
  const config: any = base();
  config.auth = { type: "api_key", name: "X-API-Key", value: "demo-key", location: "cookie" };
  assert.throws(() => validateSourceConfig(config, FILE, { env: {} }), /auth\.location: "cookie" is not one of header, query/);
  config.auth = { type: "bearer", token: "demo-token", extra: "demo-token" };
  assert.throws(() => validateSourceConfig(config, FILE, { env: {} }), (e: unknown) => {
    const m = (e as Error).message;
    assert.ok(!m.includes("demo-token"), m);
    return /unexpected field "extra"/.test(m);
  });
});

test("${ENV} interpolation, defaults, and a missing variable named with the file", () => {
  const yaml = [
    "name: commerce",
    "baseUrl: ${DEMO_URL}",
    "auth: { type: api_key, name: X-API-Key, value: '${DEMO_KEY}' }",
    "entities:",
    "  customers: { path: /commerce/customers, primaryKey: [id], params: { per_page: '${PER_PAGE:-50}' } }",
  ].join("\n");
  const config = parseSourceConfig(yaml, FILE, { env: { DEMO_URL: "http://127.0.0.1:9", DEMO_KEY: "demo-key" } });
  assert.equal(config.baseUrl, "http://127.0.0.1:9");
  assert.equal(config.entities.customers.params.per_page, "50");
  assert.equal(config.paginator.type, "single_page", "defaults applied");
  assert.equal(config.retry.maxAttempts, 5);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.entities.customers), "result is frozen");
  assert.throws(() => parseSourceConfig(yaml, FILE, { env: { DEMO_URL: "http://x" } }), (e: unknown) => {
    const m = (e as Error).message;
    assert.equal(m, `${FILE}: auth.value: environment variable DEMO_KEY is not set`);
    return true;
  });
});

test("invalid YAML and unreadable files name the file", () => {
  assert.throws(() => parseSourceConfig("name: [unclosed", FILE), /presets\/commerce\.yaml: invalid YAML: .* at line 1, column \d+$/);
  assert.throws(() => loadSourceConfig("/nonexistent/x.yaml"), /\/nonexistent\/x\.yaml: cannot read the file \(ENOENT\)/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cfg-"));
  const file = path.join(dir, "ok.yaml");
  fs.writeFileSync(file, "name: ok\nbaseUrl: http://h\nentities: { a: { path: /a, primaryKey: [id] } }\n");
  assert.equal(loadSourceConfig(file).entities.a.recordsPath, "data");
});

test("validation never mutates the input and reports every problem at once", () => {
  const config: any = base();
  config.entities.customers.paginator.type = "pages";
  config.baseUrl = "nope";
  const snapshot = JSON.stringify(config);
  assert.throws(() => validateSourceConfig(config, FILE), (e: unknown) => (e as SourceConfigError).problems.length === 2);
  assert.equal(JSON.stringify(config), snapshot);
  const good = base();
  const before = JSON.stringify(good);
  const parsed = validateSourceConfig(good, FILE);
  assert.equal(JSON.stringify(good), before);
  assert.notEqual(parsed as unknown, good as unknown);
});
