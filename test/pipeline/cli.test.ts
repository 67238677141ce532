import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { runCli } from "../support/cli-process";
import { parseOptions } from "../../pipeline/options";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import { seriesUrl } from "../../sources/rest/fetch-pages";

const ROOT = path.resolve(__dirname, "..", "..", "..");

test("no command: usage on stderr, exit 2; --version; help <command>", async () => {
  const bare = await runCli([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /^Usage: api2lake <command> \[options\]$/m);
  const version = await runCli(["--version"]);
  assert.equal(version.stdout, JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version + "\n");
  const help = await runCli(["help", "query"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: api2lake query /m);
  assert.match(help.stdout, /^ {2}--format <table\|jsonl\|csv> /m);
  assert.doesNotMatch(help.stdout, /--bigtableInstance|--lockStaleHours|--quiet/, "options that mean nothing for query are not offered");
  assert.equal((await runCli(["query", "--help"])).stdout, help.stdout);
  const unknown = await runCli(["help", "nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "nope"/);
});

test("flags: bare --quiet/--json-logs are true; options of other commands are refused", () => {
  const run = parseOptions("run", ["--quiet", "--json-logs", "--logLevel", "debug", "--config", "x.yaml"]);
  assert.deepEqual(run.errors, []);
  assert.deepEqual([run.options.quiet, run.options.jsonLogs, run.options.logLevel, run.options.config], [true, true, "debug", "x.yaml"]);
  assert.deepEqual(parseOptions("run", ["--quiet=maybe", "--config", "x.yaml"]).errors, ['--quiet: "maybe" is not true or false']);
  assert.deepEqual(parseOptions("query", ["--bigtableInstance", "x"]).errors, ['unknown option --bigtableInstance for "query" (see api2lake query --help)']);
  assert.deepEqual(parseOptions("query", ["--format", "xml"]).errors, ['--format: "xml" is not one of table, jsonl, csv']);
  assert.equal(parseOptions("run", []).options.logLevel, "info");
});

test("numbers and booleans in params are accepted and sent as text", () => {
  const config = parseSourceConfig(`
name: shop
baseUrl: http://api.example
entities:
  orders: { path: /orders, primaryKey: [id], params: { per_page: 50, active: true, ratio: 0.5, sort: id } }
`, "shop.yaml", { env: {} });
  assert.deepEqual(config.entities.orders.params, { per_page: "50", active: "true", ratio: "0.5", sort: "id" });
  assert.equal(seriesUrl(config, config.entities.orders, "orders", "/orders", undefined).search, "?per_page=50&active=true&ratio=0.5&sort=id");
  assert.throws(() => parseSourceConfig(`
name: shop
baseUrl: http://api.example
entities:
  orders: { path: /orders, primaryKey: [id], params: { per_page: [1, 2] } }
`, "shop.yaml", { env: {} }), /params/);
});
