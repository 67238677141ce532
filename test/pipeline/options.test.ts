import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseOptions, optionsHelp } from "../../pipeline/options";
import { main } from "../../pipeline/cli";

test("flags are parsed for their command, with defaults filled in", () => {
  const parsed = parseOptions("run", ["--config", "commerce", "--from=2024-01-01", "--to", "10/01/2024", "--maxWorkers", "4"]);
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.config, "commerce");
  assert.equal(parsed.options.to, "10/01/2024");
  assert.equal(parsed.options.maxWorkers, "4");
  assert.equal(parsed.options.runner, "direct");
  assert.equal(parsed.options.out, "./out");
});

test("bad flags are errors that name the flag and the valid values", () => {
  const parsed = parseOptions("run", ["--runner", "spark", "--from", "2024/01/01", "--port", "1", "--maxWorkers"]);
  assert.ok(parsed.errors.some((e) => e === '--runner: "spark" is not one of direct, portable, dataflow'));
  assert.ok(parsed.errors.some((e) => e.startsWith('--from: "2024/01/01" does not match')));
  assert.ok(parsed.errors.some((e) => e.startsWith('unknown option --port for "run"')));
  assert.ok(parsed.errors.some((e) => e === "--maxWorkers needs a value"));
  const flagAsValue = parseOptions("run", ["--config", "--entities", "a"]);
  assert.ok(flagAsValue.errors.includes("--config needs a value"));
  assert.equal(flagAsValue.options.entities, "a");
  assert.ok(parseOptions("run", ["--constructor", "x"]).errors.some((e) => e.startsWith("unknown option --constructor")));
});

test("every command has --help derived from the declarations", async () => {
  assert.match(optionsHelp("run"), /--entities <list>/);
  assert.doesNotMatch(optionsHelp("run"), /--port/);
  const logged: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args.join(" "));
  try {
    for (const command of ["run", "demo", "demo-api", "serve", "query", "template"]) {
      assert.equal(await main([command, "--help"]), 0);
    }
    assert.equal(await main(["--help"]), 0);
  } finally {
    console.log = original;
  }
  assert.ok(logged.some((l) => l.includes("Usage: api2lake run")));
  assert.ok(logged.some((l) => /demo-api\s+Serve the built-in sample API/.test(l)));
});
