import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseOptions, optionsHelp, withDefaults, conditionalProblems, OPTIONS } from "../../pipeline/options";
import type { OptionName } from "../../pipeline/options";
import { main } from "../../pipeline/cli";
import { sinkTarget } from "../../pipeline/run";

const NO_ENV = {};

test("flags are parsed for their command into typed values, with defaults filled in", () => {
  const parsed = parseOptions("run", ["--config", "commerce", "--from=2024-01-01", "--to", "10/01/2024", "--requestConcurrency", "4", "--entities", "customers, sales"], NO_ENV);
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.config, "commerce");
  assert.equal(parsed.options.to, "10/01/2024");
  assert.equal(parsed.options.requestConcurrency, 4);
  assert.deepEqual(parsed.options.entities, ["customers", "sales"]);
  assert.equal(parsed.options.runner, "direct");
  assert.equal(parsed.options.out, "./out");
  assert.equal(parsed.options.gcpTimeoutMs, 60000);
  assert.equal(parsed.options.lockStaleHours, 6);
  assert.equal(parsed.options.location, "EU");
  assert.equal(parsed.options.bigtableInstance, "api2lake");
  assert.equal(parsed.options.datasetPrefix, "");
  assert.equal(parsed.options.region, "europe-west1");
  assert.equal(parsed.options.maxNumWorkers, undefined, "no default: Dataflow decides");
  assert.deepEqual(parseOptions("run", ["--config", "c"], NO_ENV).options.entities, ["ALL"]);
});

test("bad flags are errors that name the flag and the valid values", () => {
  const parsed = parseOptions("run", ["--config", "c", "--runner", "spark", "--from", "2024/01/01", "--port", "1", "--requestConcurrency"], NO_ENV);
  assert.ok(parsed.errors.some((e) => e === '--runner: "spark" is not one of direct, portable, dataflow'));
  assert.ok(parsed.errors.some((e) => e.startsWith('--from: "2024/01/01" does not match')));
  assert.ok(parsed.errors.some((e) => e.startsWith('unknown option --port for "run"')));
  assert.ok(parsed.errors.some((e) => e === "--requestConcurrency needs a value"));
  assert.ok(parseOptions("run", ["--config", "c", "--requestConcurrency", "0"], NO_ENV).errors.some((e) => e.startsWith('--requestConcurrency: "0" does not match')));
  const flagAsValue = parseOptions("run", ["--config", "--entities", "a"], NO_ENV);
  assert.ok(flagAsValue.errors.includes("--config needs a value"));
  assert.deepEqual(flagAsValue.options.entities, ["a"]);
  assert.ok(parseOptions("run", ["--constructor", "x"], NO_ENV).errors.some((e) => e.startsWith("unknown option --constructor")));
});

test("--maxWorkers is refused with its new name: no option means both requests in flight and Dataflow's VM count", () => {
  const parsed = parseOptions("run", ["--config", "c", "--maxWorkers", "4"], NO_ENV);
  assert.deepEqual(parsed.errors, ["--maxWorkers was renamed --requestConcurrency (requests in flight per source); Dataflow's worker VMs are --maxNumWorkers"]);
  assert.equal(parseOptions("run", ["--config", "c", "--maxNumWorkers", "3"], NO_ENV).options.maxNumWorkers, 3);
});

test("required options are declared per command and checked by the parser", () => {
  assert.deepEqual(parseOptions("run", [], NO_ENV).errors, ['--config is required for "run" (Source config YAML (see README) or the name of a built-in preset.)']);
  assert.deepEqual(parseOptions("demo", [], NO_ENV).errors, [], "demo brings its own presets");
  const publish = parseOptions("publish", ["--config", "c"], NO_ENV).errors;
  assert.deepEqual(publish.map((e) => e.split(" (")[0]), ['--topic is required for "publish"']);
  const stream = parseOptions("stream", [], NO_ENV).errors.map((e) => e.split(" (")[0]);
  assert.deepEqual(stream, ['--config is required for "stream"', '--subscription is required for "stream"', '--entity is required for "stream"']);
  const launch = parseOptions("template launch", [], NO_ENV).errors.map((e) => e.split(" (")[0]);
  assert.deepEqual(launch, ['--config is required for "template launch"', '--project is required for "template launch"', '--bucket is required for "template launch"',
    '--templateFile is required for "template launch"']);
});

test("--sink gcp makes --project and --bucket required, with the same rule in the parser and in sinkTarget", () => {
  const errors = parseOptions("query", ["--sink", "gcp"], NO_ENV).errors.map((e) => e.split(" (")[0]);
  assert.deepEqual(errors, ["--project is required with --sink gcp", "--bucket is required with --sink gcp"]);
  assert.deepEqual(conditionalProblems({ sink: "gcp", project: "my-project" }).map((e) => e.split(" (")[0]), ["--bucket is required with --sink gcp"]);
  assert.deepEqual(conditionalProblems({ sink: "local" }), []);
  assert.throws(() => sinkTarget({ sink: "gcp", project: "my-project" }), { name: "UsageError", message: /^--bucket is required with --sink gcp/ });
  assert.deepEqual(sinkTarget({ sink: "gcp", project: "my-project", bucket: "my-lake" }),
    { kind: "gcp", project: "my-project", bucket: "my-lake", datasetPrefix: "", bigtableInstance: "api2lake", location: "EU", timeoutMs: 60000 });
});

test("environment fallbacks are typed and validated like flags", () => {
  const parsed = parseOptions("run", ["--config", "c", "--sink", "gcp", "--bucket", "my-lake"], { GOOGLE_CLOUD_PROJECT: "env-project", API2LAKE_REGION: "us-central1" });
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.project, "env-project");
  assert.equal(parsed.options.region, "us-central1");
  const bad = parseOptions("run", ["--config", "c"], { API2LAKE_REGION: "Mars" });
  assert.ok(bad.errors.some((e) => e.startsWith('--region: "Mars" does not match') && e.endsWith("(from the environment variable API2LAKE_REGION)")), bad.errors.join("\n"));
  assert.equal(parseOptions("run", ["--config", "c", "--region", "asia-east1"], { API2LAKE_REGION: "us-central1" }).options.region, "asia-east1", "a flag wins over the environment");
});

test("a boolean is a bare flag or =true/=false", () => {
  const base = ["--templateFile", "gs://my-lake/t.json", "--image", "img"];
  assert.equal(parseOptions("template build", base, NO_ENV).options.print, false);
  assert.equal(parseOptions("template build", [...base, "--print"], NO_ENV).options.print, true);
  assert.equal(parseOptions("template build", ["--print=false", ...base], NO_ENV).options.print, false);
  assert.deepEqual(parseOptions("template build", [...base, "--print=yes"], NO_ENV).errors, ['--print: "yes" is not true or false']);
});

test("withDefaults completes options built in code from the same declarations (and keeps what was given)", () => {
  const options = withDefaults("run", { out: "/tmp/x", requestConcurrency: 2 }, NO_ENV);
  assert.equal(options.out, "/tmp/x");
  assert.equal(options.requestConcurrency, 2);
  assert.equal(options.gcpTimeoutMs, 60000);
  assert.equal(options.runner, "direct");
  assert.equal((options as Record<string, unknown>).limit, undefined, "serve's options are not run's");
});

test("every declared default is a valid value of its own option", () => {
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec = OPTIONS[name] as { default?: string; commands: readonly string[] };
    if (spec.default === undefined || spec.default === "") continue;
    const command = spec.commands[0] as Parameters<typeof parseOptions>[0];
    const parsed = parseOptions(command, [`--${name}=${spec.default}`], NO_ENV);
    assert.ok(!parsed.errors.some((e) => e.startsWith(`--${name}:`)), `${name}: ${parsed.errors.join("; ")}`);
  }
});

test("every command has --help derived from the declarations", async () => {
  assert.match(optionsHelp("run"), /--entities <list>/);
  assert.match(optionsHelp("run"), /--config <path>\s+Source config .*\(required; e\.g\. presets\/commerce\.yaml\)/);
  assert.match(optionsHelp("run"), /--project <string>.*required with --sink gcp/);
  assert.doesNotMatch(optionsHelp("run"), /--port/);
  const logged: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args.join(" "));
  try {
    for (const command of ["run", "demo", "demo-api", "serve", "query"]) assert.equal(await main([command, "--help"]), 0);
    for (const sub of ["metadata", "build", "launch"]) assert.equal(await main(["template", sub, "--help"]), 0);
    assert.equal(await main(["--help"]), 0);
  } finally {
    console.log = original;
  }
  assert.ok(logged.some((l) => l.includes("Usage: api2lake run")));
  assert.ok(logged.some((l) => l.includes("Usage: api2lake template launch")));
  assert.ok(logged.some((l) => /demo-api\s+Serve the built-in sample API/.test(l)));
});
