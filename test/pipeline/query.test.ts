import { before, after, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../support/cli-process";
import { heldSourceYaml, startHeldServer, type HeldServer } from "../support/held-server";
import { chooseFormat, formatRows, formatTable } from "../../pipeline/row-output";

/** One run of the held API (2 pages of 3 records) into a fresh --out, then read-only commands on it. */
let server: HeldServer;
let out: string;
before(async () => {
  server = await startHeldServer(2, 3);
  server.stopHolding();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-query-"));
  fs.writeFileSync(path.join(dir, "source.yaml"), heldSourceYaml(server.url, "held"));
  out = path.join(dir, "out");
  const run = await runCli(["run", "--config", path.join(dir, "source.yaml"), "--out", out, "--quiet"]);
  assert.equal(run.code, 0, run.stderr);
});
after(async () => server?.close());

test("query --format table: aligned columns, SQL's names, numbers right-aligned, a row count", async () => {
  const result = await runCli(["query", "SELECT id, name FROM hub.items ORDER BY id LIMIT 3", "--out", out, "--format", "table"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, [" id  name", "---  ----", "100  n1-0", "101  n1-1", "102  n1-2", "(3 rows)", ""].join("\n"));
  const count = await runCli(["query", "SELECT count(*) FROM hub.items", "--out", out, "--format", "table"]);
  assert.equal(count.stdout, "count_star()\n------------\n           6\n(1 row)\n");
});

test("query off a terminal prints JSON lines by default; --format csv quotes per RFC 4180", async () => {
  const jsonl = await runCli(["query", "SELECT id FROM hub.items ORDER BY id DESC LIMIT 2", "--out", out]);
  assert.equal(jsonl.stdout, '{"id":202}\n{"id":201}\n');
  const csv = await runCli(["query", `SELECT 'a,b' AS x, 'say "hi"' AS y, NULL AS z, 9007199254740993::BIGINT AS big`, "--out", out, "--format", "csv"]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, 'x,y,z,big\n"a,b","say ""hi""",,9007199254740993\n');
});

test("api2lake tables lists schemas, tables and row counts", async () => {
  const result = await runCli(["tables", "--out", out]);
  assert.equal(result.code, 0, result.stderr);
  const tables = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { schema: string; table: string; rows: number });
  assert.deepEqual(tables.map((t) => t.schema), [...tables.map((t) => t.schema)].sort((a, b) => ["lake", "hub", "dataproducts"].indexOf(a) - ["lake", "hub", "dataproducts"].indexOf(b)));
  assert.deepEqual(tables.filter((t) => t.table === "items"), [{ schema: "lake", table: "items", rows: 6 }, { schema: "hub", table: "items", rows: 6 }]);
  const table = await runCli(["tables", "--out", out, "--format", "table"]);
  assert.match(table.stdout, /^schema +table +rows\n/);
  assert.match(table.stdout, /^hub +items +6$/m);
});

test("row output: the format by terminal, cells of every kind", async () => {
  assert.deepEqual([chooseFormat(undefined, true), chooseFormat(undefined, false), chooseFormat("csv", true)], ["table", "jsonl", "csv"]);
  const rows = [{ n: BigInt(5), at: new Date("2024-01-02T03:04:05Z"), obj: { a: [1] }, s: "x\ny", none: null }];
  assert.equal(formatTable(rows), ["n  at                        obj        s    none", "-  ------------------------  ---------  ---  ----", "5  2024-01-02T03:04:05.000Z  {\"a\":[1]}  x y  null", "(1 row)"].join("\n"));
  assert.equal(await formatRows(rows, "jsonl"), '{"n":5,"at":"2024-01-02T03:04:05.000Z","obj":{"a":[1]},"s":"x\\ny","none":null}\n');
  assert.equal(formatTable([]), "(0 rows)");
});
