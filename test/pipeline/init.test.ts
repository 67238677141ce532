import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi } from "../../sources/demo-api/index";
import { guessPaginator, guessPrimaryKey, guessRecordsPath } from "../../sources/rest/sample-inspector";
import { runCli } from "../support/cli-process";
import { json, startServer } from "../rest/helpers";

test("sample inspector: records path, primary key and paginator guesses", () => {
  assert.equal(guessRecordsPath([{ id: 1 }]), "");
  assert.equal(guessRecordsPath({ meta: { n: 1 }, result: { items: [{ a: 1 }, { a: 2 }] }, tags: [{ t: 1 }] }), "result.items");
  assert.equal(guessRecordsPath({ ok: true }), undefined);
  assert.equal(guessPrimaryKey([{ name: "a", order_id: 1 }, { name: "b", order_id: 2 }]), "order_id");
  assert.equal(guessPrimaryKey([{ id: 1, n: 1 }, { id: 1, n: 2 }]), "n");
  const u = (s: string) => new URL(s);
  assert.deepEqual(guessPaginator([], { link: '<http://x/a?page=2>; rel="next"' }, u("http://x/a")).paginator, { type: "link_header" });
  assert.deepEqual(guessPaginator({ next: "http://x/a?c=2", items: [] }, {}, u("http://x/a")).paginator, { type: "next_url", nextUrlPath: "next" });
  assert.deepEqual(guessPaginator({ data: [], pagination: { endCursor: "c1", hasNextPage: true } }, {}, u("http://x/a?limit=10")),
    { paginator: { type: "cursor", cursorParam: "after", cursorPath: "pagination.endCursor", hasMorePath: "pagination.hasNextPage" }, pagingParams: ["after"] });
  assert.deepEqual(guessPaginator({ data: [], total: 250 }, {}, u("http://x/a?offset=0&limit=100")),
    { paginator: { type: "offset", offsetParam: "offset", limitParam: "limit", limit: 100, totalPath: "total" }, pagingParams: ["offset", "limit"] });
  assert.deepEqual(guessPaginator([{ id: 1 }], {}, u("http://x/a")).paginator, { type: "single_page" });
});

test("init on the demo commerce API: exact config, the key is a ${VAR}, and the written config runs", async () => {
  const api = await startDemoApi({ seed: 42, sizes: { products: 30 } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-init-"));
  const file = path.join(dir, "products.yaml");
  try {
    const init = await runCli(["init", "--url", `${api.url}/commerce/products?page=1&per_page=10`, "--header", "X-API-Key: demo-key", "--header", "Accept-Language: fr", "--out", file]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stderr, /export X_API_KEY=\.\.\./);
    const text = fs.readFileSync(file, "utf8");
    assert.doesNotMatch(text + init.stdout + init.stderr, /demo-key/);
    assert.equal(text, [
      "# Written by api2lake init from one sample response: check it with `api2lake check --config <this file>`.",
      "name: commerce",
      `baseUrl: ${api.url}`,
      "auth:", "  type: api_key", "  location: header", "  name: X-API-Key", "  value: ${X_API_KEY}",
      "headers:", "  Accept-Language: fr",
      "entities:", "  products:", "    path: /commerce/products", "    recordsPath: data",
      "    paginator:", "      type: page_number", "      pageParam: page", "      startPage: 1", "      sizeParam: per_page", "      size: 10",
      "      totalPagesPath: meta.total_pages",
      "    primaryKey:", "      - product_id",
      "    fields:", "      product_id:", "        type: string", "        required: true", "      name:", "        type: string",
      "      category:", "        type: string", "      price:", "        type: number", "      updated_at:", "        type: timestamp",
      "    dates:", "      updated_at:", "        formats:", "          - iso", "        output: timestamp", "",
    ].join("\n"));
    const run = await runCli(["run", "--config", file, "--out", path.join(dir, "out")], { X_API_KEY: "demo-key" });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /products\s+30\s+0\s+0\s+30/);
  } finally {
    await api.close();
  }
});

test("init on a top-level-array API with a Link header and a bearer token: the config runs every page", async () => {
  const rows = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, total: `${i + 1}.5`, placedAt: `2024-03-0${i + 1}T10:00:00Z` }));
  const server = await startServer((req, res) => {
    if (req.headers.authorization !== "Bearer s3cr3t-token-value") return json(res, { error: "unauthorized" }, 401);
    const page = Number(new URL(req.url ?? "/", "http://x").searchParams.get("page") ?? "1");
    const link: Record<string, string> = page < 3 ? { link: `<${server.url}/v1/orders?page=${page + 1}>; rel="next"` } : {};
    json(res, rows.slice((page - 1) * 2, page * 2), 200, link);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-init-array-"));
  const file = path.join(dir, "orders.yaml");
  try {
    const init = await runCli(["init", "--url", `${server.url}/v1/orders`, "--header", "Authorization: Bearer s3cr3t-token-value", "--out", file]);
    assert.equal(init.code, 0, init.stderr);
    const text = fs.readFileSync(file, "utf8");
    assert.doesNotMatch(text, /s3cr3t/);
    assert.match(text, /auth:\n  type: bearer\n  token: \$\{API_TOKEN\}\n/);
    assert.match(text, /    recordsPath: ""\n    paginator:\n      type: link_header\n    primaryKey:\n      - id\n/);
    assert.match(text, /      total:\n        type: number\n/);
    const run = await runCli(["run", "--config", file, "--out", path.join(dir, "out")], { API_TOKEN: "s3cr3t-token-value" });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /orders\s+5\s+0\s+0\s+5/);
  } finally {
    await server.close();
  }
});
