import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServer, json, query, type LocalServer } from "../rest/helpers";
import { runCli, type CliResult } from "../support/cli-process";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { EmbeddedServingStore } from "../../sinks/serving-embedded";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import { sealForWorkers } from "../../sources/rest/secrets";

/**
 * One test per way a secret used to leave (issue 13): each runs the CLI against a local server,
 * then decodes every output - lake files, manifests, logs, both DuckDB schemas (rows queried),
 * the serving store through its reader, the console - and looks for the secret in every form it
 * could take (as is, URL-encoded, form-encoded, base64 of user:password).
 */

const SECRET = "s3cr3t/Value+" + Math.random().toString(36).slice(2, 10);
/** User info in a URL must be URL-safe (or percent-encoded) to parse at all. */
const URL_SAFE_SECRET = "pw" + Math.random().toString(36).slice(2, 12);
let server: LocalServer;
before(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const q = query(req);
    const page = Number(q.get("page") ?? "1");
    const rows = (n: number) => [{ id: n * 10 + 1, name: `a${n}` }, { id: n * 10 + 2, name: `b${n}` }, { id: "not-a-number", name: "bad" }];
    if (url.pathname === "/next/items") {
      // The API's next URL carries the key, as many do.
      if (q.get("api_key") !== SECRET) return json(res, { error: "bad key" }, 401);
      return json(res, { data: rows(page), next: page < 2 ? `/next/items?page=${page + 1}&api_key=${encodeURIComponent(SECRET)}` : null });
    }
    if (url.pathname === "/params/items") {
      if (q.get("token") !== SECRET) return json(res, { error: "bad token" }, 401);
      if (page === 3) return json(res, { error: "boom" }, 404); // a fetch dead letter whose URL holds the token
      return json(res, { data: rows(page), meta: { total_pages: 3 } });
    }
    if (url.pathname === "/basic/items") {
      const expected = "Basic " + Buffer.from(`leak-user:${SECRET}`).toString("base64");
      if (req.headers.authorization !== expected) return json(res, { error: "bad credentials" }, 401);
      return json(res, { data: rows(1) });
    }
    return json(res, { error: "not found" }, 404);
  });
});
after(async () => server?.close());

const ENTITY = (pathText: string, extra = "") => `
entities:
  items:
    path: ${pathText}
    primaryKey: [id]
    fields: { id: { type: integer, required: true }, name: { type: string } }
    maxDeadLetterShare: 0.5
    serving:
      table: leak_items
      rowKey: "{id}"
      families: { m: {} }
      columns: { _page: "m:page:string", _source: "m:source:string", name: "m:name:string" }
${extra}`;

async function runWithSecret(yaml: string, secret = SECRET): Promise<{ out: string; cli: CliResult }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-leak-"));
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, yaml);
  const out = path.join(dir, "out");
  const cli = await runCli(["run", "--config", file, "--out", out], { LEAK_SECRET: secret, LEAK_URL: server.url });
  return { out: out, cli: cli };
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Every output of a run, decoded, as one text per place (the binary stores through their readers). */
async function decodedOutputs(out: string, cli: CliResult): Promise<Record<string, string>> {
  const texts: Record<string, string> = { console: cli.stdout + cli.stderr };
  for (const file of filesUnder(out)) {
    if (file.includes(`${path.sep}serving${path.sep}`) || /warehouse\.duckdb/.test(file)) continue;
    texts[path.relative(out, file)] = fs.readFileSync(file, "utf8");
  }
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    const tables = await warehouse.query("SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('lake', 'hub')");
    assert.ok(tables.length >= 1, "the run created no warehouse table");
    for (const t of tables) {
      const rows = await warehouse.query(`SELECT * FROM ${String(t.s)}.${String(t.t)}`);
      texts[`duckdb ${String(t.s)}.${String(t.t)}`] = JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
    }
  } finally {
    await warehouse.close();
  }
  if (fs.existsSync(path.join(out, "serving", "leak_items.table.json"))) {
    const store = new EmbeddedServingStore(out);
    try {
      texts["serving leak_items"] = JSON.stringify(await store.read("leak_items"));
    } finally {
      await store.close();
    }
  }
  return texts;
}

function assertNoSecret(texts: Record<string, string>, secret = SECRET): void {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ v: secret }).toString().slice(2), Buffer.from(`leak-user:${secret}`).toString("base64")];
  for (const entry of Object.entries(texts)) {
    for (const form of forms) assert.ok(!entry[1].includes(form), `the secret (as ${JSON.stringify(form)}) leaked into ${entry[0]}:\n${entry[1].slice(0, 2000)}`);
  }
}

test("next-URL lineage: the API's next URL with api_key=<secret> is masked in _page everywhere", async () => {
  const run = await runWithSecret(`
name: leak_next
baseUrl: \${LEAK_URL}
publicVariables: [LEAK_URL]
auth: { type: api_key, location: query, name: api_key, value: "\${LEAK_SECRET}" }
paginator: { type: next_url, nextUrlPath: next }
${ENTITY("/next/items")}`);
  const texts = await decodedOutputs(run.out, run.cli);
  assertNoSecret(texts);
  assert.match(texts["duckdb lake.items"], /"_page":"\/next\/items\?page=2&api_key=\*\*\*\*\*"/, "the masked next URL is the lineage");
  assert.match(texts["serving leak_items"], /api_key=\*\*\*\*\*/);
  assert.ok(server.requests.some((r) => r.url.includes(`page=2&api_key=${encodeURIComponent(SECRET)}`)), "the API got the key");
});

test("params: a ${VAR} in params is masked in request records, fetch dead letters and the error table", async () => {
  const run = await runWithSecret(`
name: leak_params
baseUrl: \${LEAK_URL}
publicVariables: [LEAK_URL]
retry: { maxAttempts: 1 }
paginator: { type: page_number, pageParam: page, totalPagesPath: meta.total_pages }
${ENTITY("/params/items", '    params: { token: "${LEAK_SECRET}" }')}`);
  assert.equal(run.cli.code, 1, "a page that kept failing fails the run");
  const texts = await decodedOutputs(run.out, run.cli);
  assertNoSecret(texts);
  assert.match(texts["duckdb lake.items_error_records"], /GET \/params\/items page 3 failed/);
  assert.match(texts["duckdb lake.items_error_records"], /token=s\*\*\*\*\*/);
});

test("base URL: https://user:${SECRET}@host is masked in the fetch dead letters, manifest and console", async () => {
  const run = await runWithSecret(`
name: leak_base
baseUrl: http://leak-user:\${LEAK_SECRET}@${server.url.slice("http://".length)}
retry: { maxAttempts: 1 }
${ENTITY("/params/items")}`, URL_SAFE_SECRET);
  assert.equal(run.cli.code, 1, run.cli.stdout + run.cli.stderr);
  const texts = await decodedOutputs(run.out, run.cli);
  assertNoSecret(texts, URL_SAFE_SECRET);
  assert.match(texts["duckdb lake.items_error_records"], /leak-user:p\*\*\*\*\*[0-9a-z]@127\.0\.0\.1/);
});

test("query auth: the api_key query parameter is masked in request records", async () => {
  const run = await runWithSecret(`
name: leak_query
baseUrl: \${LEAK_URL}
publicVariables: [LEAK_URL]
auth: { type: api_key, location: query, name: api_key, value: "\${LEAK_SECRET}" }
paginator: { type: next_url, nextUrlPath: next }
${ENTITY("/next/items")}`);
  const texts = await decodedOutputs(run.out, run.cli);
  assertNoSecret(texts);
  const requests = Object.keys(texts).filter((k) => k.startsWith(path.join("lake", "raw", "items_requests")));
  assert.equal(requests.length, 1);
  assert.match(texts[requests[0]], /"url":"http:\/\/127\.0\.0\.1:\d+\/next\/items\?page=2&api_key=\*\*\*\*\*"/);
});

test("basic auth: the password and its base64 header value appear nowhere", async () => {
  const run = await runWithSecret(`
name: leak_basic
baseUrl: \${LEAK_URL}
publicVariables: [LEAK_URL]
auth: { type: basic, username: leak-user, password: "\${LEAK_SECRET}" }
${ENTITY("/basic/items")}`);
  assert.equal(run.cli.code, 0, run.cli.stdout + run.cli.stderr);
  const texts = await decodedOutputs(run.out, run.cli);
  assertNoSecret(texts);
  assert.match(texts["duckdb hub.items"], /"name":"a1"/);
});

test("the config DoFns capture holds references, not values, for every ${VAR} that is not public", () => {
  const loaded = parseSourceConfig(`
name: sealed
baseUrl: http://u:\${LEAK_PW}@\${LEAK_HOST}
publicVariables: [LEAK_HOST]
auth: { type: bearer, token: "\${LEAK_SECRET}" }
entities:
  items: { path: "/items/{k}", pathParams: { k: ["\${LEAK_SECRET}"] }, params: { a: "\${LEAK_SECRET}", page: "\${SIZE:-50}" }, primaryKey: [id] }
`, "sealed.yaml", { env: { LEAK_SECRET: SECRET, LEAK_PW: URL_SAFE_SECRET, LEAK_HOST: "127.0.0.1:9" } });
  const sealed = JSON.stringify(sealForWorkers(loaded));
  assert.ok(!sealed.includes(SECRET) && !sealed.includes(URL_SAFE_SECRET), sealed);
  assert.ok(sealed.includes('"baseUrl":"http://u:${LEAK_PW}@${LEAK_HOST}"'), sealed);
  assert.ok(sealed.includes('"a":"${LEAK_SECRET}"') && sealed.includes('"k":["${LEAK_SECRET}"]') && sealed.includes('"page":"${SIZE:-50}"'), sealed);
});
