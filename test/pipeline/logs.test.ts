import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { json, query, startServer } from "../rest/helpers";
import { runCli } from "../support/cli-process";

const TOKEN = "tok-Zq81-very-secret-bearer";
const KEY = "key-Pw55-very-secret-apikey";

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `api2lake-${prefix}-`));
}

/** The run's JSON-lines log file and its manifest. */
function runFiles(out: string): { log: string; manifest: { run_id: string; status: string } } {
  const runs = path.join(out, "runs");
  const name = fs.readdirSync(runs).find((f) => f.endsWith(".json"))!;
  return { log: fs.readFileSync(path.join(runs, name.replace(/\.json$/, ".log")), "utf8"), manifest: JSON.parse(fs.readFileSync(path.join(runs, name), "utf8")) };
}

const SEVERITIES = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

test("logs are JSON lines with Cloud Logging severity, in runs/<run_id>.log and on stdout with --json-logs; failure causes are on the console; no secret anywhere", async (t) => {
  const server = await startServer((req, res) => {
    const url = req.url ?? "";
    const page = Number(query(req).get("page") ?? "1");
    if (url.startsWith("/items")) {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, { error: "no token" }, 403);
      return json(res, { data: page <= 2 ? [{ id: page * 10 + 1 }, { id: page * 10 + 2 }] : [] });
    }
    if (url.startsWith("/keyed")) {
      if (query(req).get("api_key") !== KEY) return json(res, { error: "no key" }, 403);
      return json(res, { data: page === 1 ? [{ id: 1 }] : [] });
    }
    // The API echoes the credential in its error body: the dead letter, log and console must not.
    if (url.startsWith("/denied")) return json(res, { error: `token ${TOKEN} is revoked` }, 401);
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html><body>Maintenance</body></html>");
  });
  t.after(() => server.close());
  const dir = tempDir("logs");
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, `
name: logged
baseUrl: ${server.url}
auth: { type: bearer, token: "\${LOG_TEST_TOKEN}" }
paginator: { type: page_number, pageParam: page }
retry: { maxAttempts: 1 }
entities:
  items: { path: /items, primaryKey: [id] }
  keyed: { path: /keyed, primaryKey: [id], auth: { type: api_key, location: query, name: api_key, value: "\${LOG_TEST_KEY}" } }
  denied: { path: /denied, primaryKey: [id] }
  html: { path: /html, primaryKey: [id] }
`);
  const out = path.join(dir, "out");
  const result = await runCli(["run", "--config", file, "--out", out, "--logLevel", "debug", "--json-logs", "--quiet"], { LOG_TEST_TOKEN: TOKEN, LOG_TEST_KEY: KEY });
  assert.equal(result.code, 1, result.stderr);

  // stdout is JSON lines only; the summary went to stderr.
  const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const line of lines) assert.ok(SEVERITIES.includes(String(line.severity)), JSON.stringify(line));
  const requests = lines.filter((l) => l.message === "request" && l.entity === "items");
  assert.deepEqual(requests.map((l) => [l.severity, String(l.url).replace(server.url, "")]), [["DEBUG", "/items?page=1"], ["DEBUG", "/items?page=2"], ["DEBUG", "/items?page=3"]]);
  assert.deepEqual(lines.filter((l) => l.message === "request" && l.entity === "keyed").map((l) => String(l.url).replace(server.url, "")), ["/keyed?page=1", "/keyed?page=2"], "logged before the credential is added");
  const stopped = lines.filter((l) => l.message === "request series stopped early").map((l) => [l.severity, l.entity]);
  assert.deepEqual(stopped.sort(), [["WARNING", "denied"], ["WARNING", "html"]]);
  assert.deepEqual(lines[lines.length - 1].severity, "ERROR");
  assert.equal(lines[lines.length - 1].message, "run failed");

  // The same lines, stamped with the run id, are the run's log file.
  const files = runFiles(out);
  const logged = files.log.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(logged.length, lines.length);
  for (const line of logged) assert.equal(line.run_id, files.manifest.run_id);
  assert.deepEqual(logged.map((l) => l.message), lines.map((l) => l.message));

  // Failure causes on the console: the cause itself per entity, and where the rest is.
  assert.match(result.stderr, /^denied: 1 page\(s\) kept failing, first: GET \/denied page 1 failed: HTTP 401: \{"error":"token t\*\*\*\*\*r is revoked"\} \(not retryable\)$/m);
  assert.match(result.stderr, /^html: 1 page\(s\) kept failing, first: GET \/html page 1 failed: body is HTML, not JSON \(content-type text\/html, 37 bytes\): <html><body>Maintenance<\/body><\/html> \(gave up after 1 attempt\(s\)\)$/m);
  assert.match(result.stderr, /^denied dead letters, first 1 \(all: lake\.denied_error_records, lake\/deadletter\/denied\/\):$/m);
  assert.match(result.stderr, new RegExp(`^log: +${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/runs/${files.manifest.run_id}\\.log`, "m"));

  // No secret in the console, the log, or any file the run wrote (lake, warehouse, serving, manifest).
  for (const secret of [TOKEN, KEY]) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `${secret} on the console`);
    for (const written of filesUnder(out)) assert.ok(!fs.readFileSync(written).includes(secret), `${secret} in ${written}`);
  }
});

test("the console names ECONNREFUSED; the default log level leaves request lines out", async () => {
  const closed = await startServer(() => undefined);
  const url = closed.url;
  await closed.close();
  const dir = tempDir("refused");
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, `
name: refused
baseUrl: ${url}
paginator: { type: page_number, pageParam: page }
retry: { maxAttempts: 1 }
entities:
  items: { path: /items, primaryKey: [id] }
`);
  const out = path.join(dir, "out");
  const result = await runCli(["run", "--config", file, "--out", out, "--quiet"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^items: 1 page\(s\) kept failing, first: GET \/items page 1 failed: fetch failed \(ECONNREFUSED\) \(gave up after 1 attempt\(s\)\)$/m);
  const logged = runFiles(out).log.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual([...new Set(logged.map((l) => l.severity))].sort(), ["ERROR", "INFO", "WARNING"]);
  assert.deepEqual(logged.filter((l) => l.severity === "WARNING").map((l) => l.message), ["request series stopped early", "dead letter"]);
});
