import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { parseOptions } from "../../pipeline/options";
import { flexTemplateRunArgv, shellLine } from "../../pipeline/template-command";
import { templateMetadata } from "../../pipeline/template-metadata";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const CLI = path.join(ROOT, "bin", "api2lake.js");
const SPEC = "gs://my-lake/templates/api2lake.json";
const IMAGE = "europe-west1-docker.pkg.dev/my-project/api2lake/launcher:v1";

/** A `gcloud` on PATH that appends its argv (one JSON array per line) to a file and exits with $FAKE_GCLOUD_EXIT. */
function fakeGcloud(): { dir: string; calls: () => string[][] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-gcloud-"));
  const log = path.join(dir, "calls.jsonl");
  fs.writeFileSync(path.join(dir, "gcloud"), `#!${process.execPath}\nrequire("fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");\nprocess.exit(Number(process.env.FAKE_GCLOUD_EXIT || 0));\n`, { mode: 0o755 });
  return { dir: dir, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]) : []) };
}

/** Runs the CLI with only `pathDirs` on PATH (node itself is started by absolute path). */
function cli(args: string[], pathDirs: string[], extraEnv: Record<string, string> = {}, cwd = ROOT) {
  const env: Record<string, string> = { PATH: pathDirs.join(path.delimiter), HOME: os.tmpdir(), ...extraEnv };
  return spawnSync(process.execPath, [CLI, ...args], { cwd: cwd, env: env, encoding: "utf8", timeout: 60_000 });
}

const LAUNCH = ["template", "launch", "--templateFile", SPEC, "--config", "presets/commerce.yaml", "--project", "my-project", "--bucket", "my-lake",
  "--entities", "customers,sales", "--from", "2024-01-01", "--to", "2024-01-07", "--requestConcurrency", "4", "--jobName", "api2lake-manual-1",
  "--region", "us-central1", "--maxNumWorkers", "3", "--serviceAccountEmail", "api2lake-pipeline@my-project.iam.gserviceaccount.com"];

const LAUNCH_ARGV = ["dataflow", "flex-template", "run", "api2lake-manual-1", "--template-file-gcs-location", SPEC, "--region", "us-central1",
  "--project", "my-project", "--parameters",
  "^~^config=presets/commerce.yaml~entities=customers,sales~from=2024-01-01~to=2024-01-07~requestConcurrency=4~project=my-project~bucket=my-lake",
  "--service-account-email", "api2lake-pipeline@my-project.iam.gserviceaccount.com", "--max-workers", "3"];

test("template launch --print shows the exact gcloud command with typed parameters and runs nothing", () => {
  const gcloud = fakeGcloud();
  const run = cli([...LAUNCH, "--print"], [gcloud.dir]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, shellLine(["gcloud", ...LAUNCH_ARGV]) + "\n");
  assert.deepEqual(gcloud.calls(), [], "--print runs no gcloud");
});

test("template launch runs gcloud with that argv and returns its exit code", () => {
  const gcloud = fakeGcloud();
  const ok = cli(LAUNCH, [gcloud.dir]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(gcloud.calls(), [LAUNCH_ARGV]);
  const failed = cli(LAUNCH, [gcloud.dir], { FAKE_GCLOUD_EXIT: "3" });
  assert.equal(failed.status, 3, "gcloud's failure is the command's");
});

test("template launch validates parameters with the option declarations before calling gcloud", () => {
  const gcloud = fakeGcloud();
  const run = cli(["template", "launch", "--templateFile", SPEC, "--config", "c", "--project", "my-project", "--bucket", "my-lake", "--requestConcurrency", "0", "--from", "yesterday"], [gcloud.dir]);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--requestConcurrency: "0" does not match/);
  assert.match(run.stderr, /--from: "yesterday" does not match/);
  assert.deepEqual(gcloud.calls(), []);
  const missing = cli(["template", "launch", "--config", "c"], [gcloud.dir]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--project is required for "template launch"/);
  assert.match(missing.stderr, /--templateFile is required for "template launch"/);
});

test("defaults are left to the template, a value without a comma needs no alternate delimiter, the job name comes from the clock", () => {
  const parsed = parseOptions("template launch", ["--templateFile", SPEC, "--config", "commerce", "--project", "my-project", "--bucket", "my-lake", "--requestConcurrency", "8"], {});
  assert.deepEqual(parsed.errors, []);
  const argv = flexTemplateRunArgv(parsed.options, new Date("2024-06-01T13:04:05.678Z"));
  assert.deepEqual(argv, ["gcloud", "dataflow", "flex-template", "run", "api2lake-20240601-130405", "--template-file-gcs-location", SPEC,
    "--region", "europe-west1", "--project", "my-project", "--parameters", "config=commerce,project=my-project,bucket=my-lake"]);
});

test("template build writes the metadata and runs gcloud dataflow flex-template build with the image and that file", () => {
  const gcloud = fakeGcloud();
  const out = path.join(gcloud.dir, "metadata.json");
  const printed = cli(["template", "build", "--image", IMAGE, "--templateFile", SPEC, "--templateOut", out, "--print"], [gcloud.dir]);
  assert.equal(printed.status, 0, printed.stderr);
  const expected = ["dataflow", "flex-template", "build", SPEC, "--image", IMAGE, "--sdk-language", "PYTHON", "--metadata-file", out];
  assert.equal(printed.stdout, shellLine(["gcloud", ...expected]) + "\n");
  assert.ok(!fs.existsSync(out), "--print writes nothing");
  const built = cli(["template", "build", "--image", IMAGE, "--templateFile", SPEC, "--templateOut", out], [gcloud.dir]);
  assert.equal(built.status, 0, built.stderr);
  assert.deepEqual(gcloud.calls(), [expected]);
  assert.deepEqual(JSON.parse(fs.readFileSync(out, "utf8")), templateMetadata());
});

test("without gcloud on PATH the commands are a clear usage error (exit 2); template metadata needs no gcloud", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-nogcloud-"));
  const run = cli(LAUNCH, [empty]);
  assert.equal(run.status, 2);
  assert.equal(run.stderr.trim(), "api2lake template launch: gcloud is not on PATH: install the Google Cloud CLI, or add --print to see the command");
  const build = cli(["template", "build", "--image", IMAGE, "--templateFile", SPEC, "--templateOut", path.join(empty, "m.json")], [empty]);
  assert.equal(build.status, 2);
  assert.match(build.stderr, /gcloud is not on PATH/);
  const bare = cli(["template"], [empty]);
  assert.equal(bare.status, 2);
  assert.equal(bare.stderr.trim(), "api2lake template: give a subcommand: metadata, build or launch (api2lake template <subcommand> --help)");
  const meta = cli(["template", "metadata", "--templateOut", path.join(empty, "meta.json")], [empty]);
  assert.equal(meta.status, 0, meta.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(empty, "meta.json"), "utf8")), templateMetadata());
});
