import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { startServer, json, query, type LocalServer } from "./helpers";
import { runCli, type CliResult } from "../support/cli-process";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import { openSecretsWhereRequested, sealForWorkers } from "../../sources/rest/secrets";
import { accessSecretVersion, resolveSecretManagerReferences } from "../../sources/rest/secret-manager";

/**
 * `${sm:...}` references against a local gRPC server that implements Secret Manager's
 * AccessSecretVersion from the protos shipped in @google-cloud/secret-manager and google-gax,
 * reached by the unmodified client through API2LAKE_SECRET_MANAGER_ENDPOINT.
 */

const SECRET = "sm-s3cr3t/" + Math.random().toString(36).slice(2, 10);
const OTHER = "other-" + Math.random().toString(36).slice(2, 10);
const KEY_REF = "projects/p1/secrets/shop-key/versions/latest";
const MISSING_REF = "projects/p1/secrets/nope/versions/latest";

/** Secret versions the fake serves; `latest` is version 1. Every AccessSecretVersion call is recorded. */
const VERSIONS: Record<string, string> = { "projects/p1/secrets/shop-key/versions/1": SECRET, "projects/p1/secrets/other/versions/1": OTHER };
const calls: string[] = [];
let grpcServer: grpc.Server;
let api: LocalServer;

function protoDirs(): string[] {
  const sm = path.join(path.dirname(require.resolve("@google-cloud/secret-manager")), "..", "..", "build", "protos");
  const gax = path.join(path.dirname(require.resolve("google-gax")), "..", "protos");
  return [sm, gax].map((d) => path.resolve(d));
}

before(async () => {
  const dirs = protoDirs();
  const definition = protoLoader.loadSync("google/cloud/secretmanager/v1/service.proto", { includeDirs: dirs, keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { google: { cloud: { secretmanager: { v1: { SecretManagerService: { service: grpc.ServiceDefinition } } } } } };
  grpcServer = new grpc.Server();
  grpcServer.addService(loaded.google.cloud.secretmanager.v1.SecretManagerService.service, {
    accessSecretVersion: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      calls.push(call.request.name);
      const name = call.request.name.replace(/\/versions\/latest$/, "/versions/1");
      const value = VERSIONS[name];
      if (value === undefined) return callback({ code: grpc.status.NOT_FOUND, details: `Secret Version [${call.request.name}] not found.` });
      callback(null, { name: name, payload: { data: Buffer.from(value, "utf8") } });
    },
  });
  const port = await new Promise<number>((resolve, reject) => grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  process.env.API2LAKE_SECRET_MANAGER_ENDPOINT = `127.0.0.1:${port}`;

  api = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const q = query(req);
    if (q.get("api_key") !== SECRET) return json(res, { error: "bad key" }, 401);
    const page = Number(q.get("page") ?? "1");
    if (url.pathname !== "/items" || page > 2) return json(res, { error: "gone" }, 404);
    // The API's next URL carries the key, as many do; page 3 fails: a fetch dead letter whose URL holds it.
    return json(res, { data: [{ id: page * 10 + 1, name: `a${page}` }, { id: "not-a-number", name: "bad" }], next: `/items?page=${page + 1}&api_key=${encodeURIComponent(SECRET)}` });
  });
});
after(async () => {
  await api?.close();
  grpcServer?.forceShutdown();
});

const CONFIG = (ref: string) => `
name: sm_shop
baseUrl: \${SM_URL}
publicVariables: [SM_URL]
retry: { maxAttempts: 1 }
auth: { type: api_key, location: query, name: api_key, value: "\${sm:${ref}}" }
paginator: { type: next_url, nextUrlPath: next }
entities:
  items:
    path: /items
    primaryKey: [id]
    fields: { id: { type: integer, required: true }, name: { type: string } }
    maxDeadLetterShare: 0.9
`;

test("a reference resolves through the unmodified client, once per process, and the value is masked as a secret", async () => {
  const loaded = parseSourceConfig(CONFIG(KEY_REF), "sm.yaml", { env: { SM_URL: api.url } });
  assert.equal(loaded.auth.type === "api_key" && loaded.auth.value, `\${sm:${KEY_REF}}`, "the driver keeps the reference, never the value");
  assert.ok(!JSON.stringify(sealForWorkers(loaded)).includes(SECRET));
  const before = calls.length;
  const opened = await openSecretsWhereRequested(sealForWorkers(loaded), { SM_URL: api.url });
  assert.equal(opened.source.auth.type === "api_key" && opened.source.auth.value, SECRET);
  assert.deepEqual(opened.secrets.queryParams, ["api_key"]);
  assert.ok(opened.secrets.values.includes(SECRET) && opened.secrets.values.includes(encodeURIComponent(SECRET)));
  await openSecretsWhereRequested(sealForWorkers(loaded), { SM_URL: api.url });
  assert.equal(await accessSecretVersion(KEY_REF), SECRET);
  assert.deepEqual(calls.slice(before), [KEY_REF], "cached per process: one call for three uses");
});

test("a missing secret is an error naming the key path and the secret version, not any value", async () => {
  const value = { auth: { token: `\${sm:${MISSING_REF}}` }, headers: { "X-Other": `\${sm:projects/p1/secrets/other/versions/latest}` } };
  await assert.rejects(resolveSecretManagerReferences(value), (error: Error) => {
    assert.match(error.message, /^auth\.token: Secret Manager secret projects\/p1\/secrets\/nope\/versions\/latest could not be read \(5 NOT_FOUND: /);
    assert.ok(!error.message.includes(OTHER));
    return true;
  });
  const ok = await resolveSecretManagerReferences({ headers: { "X-Other": `Bearer \${sm:projects/p1/secrets/other/versions/latest}` } });
  assert.deepEqual(ok, { value: { headers: { "X-Other": `Bearer ${OTHER}` } }, secretValues: [OTHER] });
});

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

async function runConfig(ref: string): Promise<{ out: string; cli: CliResult; manifest: Record<string, any>; texts: Record<string, string> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-sm-"));
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, CONFIG(ref));
  const out = path.join(dir, "out");
  const cli = await runCli(["run", "--config", file, "--out", out], { SM_URL: api.url, API2LAKE_SECRET_MANAGER_ENDPOINT: process.env.API2LAKE_SECRET_MANAGER_ENDPOINT! });
  const texts: Record<string, string> = { console: cli.stdout + cli.stderr };
  for (const f of filesUnder(out)) if (!/warehouse\.duckdb/.test(f)) texts[path.relative(out, f)] = fs.readFileSync(f, "utf8");
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    for (const t of await warehouse.query("SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('lake', 'hub')")) {
      const rows = await warehouse.query(`SELECT * FROM ${String(t.s)}.${String(t.t)}`);
      texts[`duckdb ${String(t.s)}.${String(t.t)}`] = JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
    }
  } finally {
    await warehouse.close();
  }
  const manifestFile = fs.readdirSync(path.join(out, "runs")).find((f) => f.endsWith(".json"));
  assert.ok(manifestFile, `no manifest: ${cli.stderr}`);
  return { out: out, cli: cli, manifest: JSON.parse(fs.readFileSync(path.join(out, "runs", manifestFile), "utf8")), texts: texts };
}

test("api2lake run: the resolved key is used in the requests and appears nowhere in lake, dead letters, warehouse, manifest or log", async () => {
  const run = await runConfig(KEY_REF);
  assert.equal(run.cli.code, 1, "page 3 kept failing: the run fails, as with any fetch dead letter");
  assert.ok(api.requests.some((r) => r.url === `/items?api_key=${encodeURIComponent(SECRET)}`), "the API got the key from Secret Manager");
  const counts = run.manifest.entities.items;
  assert.equal(counts.fetched, 4);
  assert.equal(counts.kept, 2);
  assert.equal(counts.validate_failed, 2);
  assert.equal(counts.fetch_failed_pages, 1);
  assert.ok(Object.keys(run.texts).some((k) => k.startsWith(path.join("lake", "deadletter"))), "dead letters were written");
  assert.match(run.texts["duckdb lake.items_error_records"], /page=3&api_key=\*\*\*\*\* failed: HTTP 404/, "the fetch dead letter, key masked");
  assert.match(run.texts["duckdb lake.items"], /api_key=\*\*\*\*\*/, "lineage keeps the masked next URL");
  for (const form of [SECRET, encodeURIComponent(SECRET), new URLSearchParams({ v: SECRET }).toString().slice(2)]) {
    for (const entry of Object.entries(run.texts)) assert.ok(!entry[1].includes(form), `the secret (as ${form}) leaked into ${entry[0]}`);
  }
});

test("api2lake run: a secret that does not exist fails the run with a fetch dead letter naming the secret version", async () => {
  const run = await runConfig(MISSING_REF);
  assert.equal(run.cli.code, 1);
  assert.equal(run.manifest.status, "failed");
  assert.equal(run.manifest.entities.items.fetch_failed_pages, 1);
  assert.equal(run.manifest.entities.items.fetched, 0);
  assert.ok(run.manifest.errors.some((e: string) => e.startsWith("some pages kept failing")), run.manifest.errors.join("\n"));
  assert.match(run.texts["duckdb lake.items_error_records"], /secrets: auth\.value: Secret Manager secret projects\/p1\/secrets\/nope\/versions\/latest could not be read \(5 NOT_FOUND/);
  assert.match(run.cli.stdout, /Secret Manager secret projects\/p1\/secrets\/nope\/versions\/latest could not be read/, "the console names it");
  assert.ok(!api.requests.some((r) => r.url.includes("nope")), "no request was made without the key");
});
