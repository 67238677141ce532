import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServer, json, type LocalServer } from "../rest/helpers";
import { runCli } from "../support/cli-process";
import { outcomeRules, entityCounts } from "../../pipeline/manifest";

let server: LocalServer;
const RECORDS = [{ id: 1, name: "a" }, { id: 2, name: "b" }, { id: "x", name: "bad" }, { id: 4, name: "d" }];
before(async () => {
  server = await startServer((req, res) => {
    if (req.url === "/wrapped") return json(res, { items: RECORDS });
    if (req.url === "/array") return json(res, RECORDS);
    return json(res, { data: RECORDS });
  });
});
after(async () => server?.close());

async function run(entity: string): Promise<{ code: number | null; console: string; manifest: Record<string, unknown> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-outcome-"));
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, `name: outcome\nbaseUrl: ${server.url}\nentities:\n  items:\n${entity}`);
  const out = path.join(dir, "out");
  const cli = await runCli(["run", "--config", file, "--out", out]);
  const runs = fs.existsSync(path.join(out, "runs")) ? fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".json")) : [];
  assert.equal(runs.length, 1, cli.stdout + cli.stderr);
  return { code: cli.code, console: cli.stdout + cli.stderr, manifest: JSON.parse(fs.readFileSync(path.join(out, "runs", runs[0]), "utf8")) };
}

const FIELDS = "    fields: { id: { type: integer, required: true }, name: { type: string } }\n";

test("the outcome rules, as a pure function", () => {
  const counts = entityCounts({ "a/fetched": 4, "a/kept": 3, "a/validate_failed": 1, "b/fetched": 2, "b/parse_failed": 2, "c/fetch_failed_pages": 1 }, ["a", "b", "c"]);
  assert.deepEqual(outcomeRules(counts, { a: 0.2 }), [
    { entity: "a", rule: "kept records when some were fetched (fetched 4, kept 3)", ok: true },
    { entity: "a", rule: "dead-lettered share 25% <= 20% (1 of 4)", ok: false },
    { entity: "a", rule: "no page kept failing (0 fetch dead letter(s))", ok: true },
    { entity: "b", rule: "kept records when some were fetched (fetched 2, kept 0)", ok: false },
    { entity: "b", rule: "dead-lettered share 100% <= 50% (2 of 2)", ok: false },
    { entity: "b", rule: "no page kept failing (0 fetch dead letter(s))", ok: true },
    { entity: "c", rule: "kept records when some were fetched (fetched 0, kept 0)", ok: true },
    { entity: "c", rule: "dead-lettered share 0% <= 50% (0 of 0)", ok: true },
    { entity: "c", rule: "no page kept failing (1 fetch dead letter(s))", ok: false },
  ]);
});

test("a wrong recordsPath fails the run with a fetch dead letter saying what the body holds", async () => {
  const result = await run(`    path: /wrapped\n    primaryKey: [id]\n${FIELDS}`);
  assert.equal(result.code, 1);
  assert.match(result.console, /run \S+: failed/);
  assert.match(result.console, /items dead letters, first 1 \(all: lake\.items_error_records, lake\/deadletter\/items\/\):\n  - fetch: GET \/wrapped page 1: records path "data" matched nothing: body is an object with keys \[items\]/);
});

test("an API answering a top-level array is told to set recordsPath: \"\"", async () => {
  const result = await run(`    path: /array\n    primaryKey: [id]\n${FIELDS}`);
  assert.equal(result.code, 1);
  assert.match(result.console, /records path "data" matched nothing: body is a JSON array: set recordsPath: ""/);
  const fixed = await run(`    path: /array\n    recordsPath: ""\n    primaryKey: [id]\n${FIELDS}`);
  assert.equal(fixed.code, 0, fixed.console);
});

test("a primaryKey naming no field: everything dead-lettered, nothing kept, exit 1 with the reasons printed", async () => {
  const result = await run(`    path: /ok\n    primaryKey: [nope]\n${FIELDS}`);
  assert.equal(result.code, 1);
  const errors = result.manifest.errors as string[];
  assert.ok(errors.includes("items: outcome rule not met: kept records when some were fetched (fetched 4, kept 0)"), errors.join("\n"));
  assert.ok(errors.includes("items: outcome rule not met: dead-lettered share 100% <= 50% (4 of 4)"), errors.join("\n"));
  assert.match(result.console, /items dead letters, first 3 \(all: lake\.items_error_records/);
  assert.match(result.console, /  - validate: .*nope/);
});

test("the dead-lettered share is configurable per entity (maxDeadLetterShare, default 50%)", async () => {
  const lenient = await run(`    path: /ok\n    primaryKey: [id]\n${FIELDS}`);
  assert.equal(lenient.code, 0, lenient.console);
  assert.match(lenient.console, /  - validate: .*"id"/, "a successful run still prints its dead-letter reasons");
  const strict = await run(`    path: /ok\n    primaryKey: [id]\n    maxDeadLetterShare: 0.2\n${FIELDS}`);
  assert.equal(strict.code, 1);
  assert.ok((strict.manifest.errors as string[]).includes("items: outcome rule not met: dead-lettered share 25% <= 20% (1 of 4)"));
});
