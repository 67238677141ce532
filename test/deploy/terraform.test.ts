import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { OPTIONS } from "../../pipeline/options";
import type { CommandName, OptionSpec } from "../../pipeline/options";

// No terraform provider can be downloaded here, so `terraform validate` cannot run: these
// checks read the HCL as text and keep the IaC in step with the option declarations.
const ROOT = path.resolve(__dirname, "..", "..", "..");
const TF = path.join(ROOT, "deploy", "terraform");
const read = (f: string) => fs.readFileSync(path.join(TF, f), "utf8");
const main = read("main.tf");
const metadata = JSON.parse(fs.readFileSync(path.join(ROOT, "deploy", "metadata.json"), "utf8")) as { parameters: { name: string; isOptional: boolean; regexes?: string[] }[] };

function option(name: string): OptionSpec | undefined {
  return (OPTIONS as Record<string, OptionSpec>)[name];
}

/** The `parameters = { ... }` block of the Flex Template launch body: name -> HCL expression. */
function launchParameters(): Map<string, string> {
  const block = /launchParameter\s*=\s*\{[\s\S]*?\bparameters\s*=\s*\{([^{}]*)\}/.exec(main);
  assert.ok(block, "main.tf: no launchParameter { parameters = { ... } } block in the scheduler body");
  const out = new Map<string, string>();
  for (const m of block[1].matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$/gm)) out.set(m[1], m[2]);
  return out;
}

test("every template parameter the scheduler passes is declared in deploy/metadata.json and accepted by `api2lake run`", () => {
  const declared = new Set(metadata.parameters.map((p) => p.name));
  const params = launchParameters();
  assert.ok(params.size >= 5, `too few parameters parsed: ${[...params.keys()]}`);
  for (const name of params.keys()) {
    assert.ok(declared.has(name), `main.tf passes template parameter "${name}", not declared in deploy/metadata.json (${[...declared].join(", ")})`);
    assert.ok(option(name)?.commands.includes("run"), `main.tf passes "${name}", which \`api2lake run\` does not accept`);
  }
  for (const p of metadata.parameters) if (!p.isOptional) assert.ok(params.has(p.name), `main.tf does not pass the required parameter "${p.name}"`);
});

test("the scheduler launches the Flex Template over HTTP with OAuth, as the pipeline account", () => {
  assert.match(main, /uri\s*=\s*"https:\/\/dataflow\.googleapis\.com\/v1b3\/projects\/\$\{var\.project\}\/locations\/\$\{var\.region\}\/flexTemplates:launch"/);
  assert.match(main, /containerSpecGcsPath\s*=\s*local\.template_spec_path/);
  assert.match(main, /serviceAccountEmail\s*=\s*google_service_account\.pipeline\.email/);
  const oauth = main.match(/oauth_token\s*\{[^}]*\}/g) ?? [];
  assert.equal(oauth.length, 2, "both scheduler jobs authenticate with an OAuth token");
  assert.match(main, /schedule\s*=\s*var\.schedule/);
  assert.match(read("variables.tf"), /variable "schedule"[\s\S]*?default\s*=\s*"0 \* \* \* \*"/, "hourly by default");
});

test("the publisher job's flags are options of `api2lake publish`", () => {
  const job = /resource "google_cloud_run_v2_job" "publisher"[\s\S]*?\bargs\s*=\s*\[([^\]]*)\]/.exec(main);
  assert.ok(job, "main.tf: no args of the publisher Cloud Run job");
  assert.match(job[1], /"publish"/);
  const flags = [...job[1].matchAll(/"--([A-Za-z]+)"/g)].map((m) => m[1]);
  assert.ok(flags.includes("config") && flags.includes("topic"), `publisher flags: ${flags}`);
  const publish: CommandName = "publish";
  for (const f of flags) assert.ok(option(f)?.commands.includes(publish), `publisher job passes --${f}, not an option of api2lake publish`);
});

test("the invoices subscription dead-letters after a bounded number of deliveries", () => {
  const sub = /resource "google_pubsub_subscription" "invoices" \{[\s\S]*?\n\}/.exec(main);
  assert.ok(sub);
  assert.match(sub[0], /dead_letter_policy\s*\{[^}]*dead_letter_topic\s*=\s*google_pubsub_topic\.invoices_dead_letter\.id[^}]*max_delivery_attempts\s*=\s*var\.max_delivery_attempts/);
  assert.match(main, /google_pubsub_topic_iam_member" "dead_letter_publisher"[\s\S]*?member\s*=\s*local\.pubsub_agent/);
});

test("the datasets are lake, hub and dataproducts behind the prefix variable", () => {
  assert.match(main, /layers\s*=\s*\["lake", "hub", "dataproducts"\]/);
  assert.match(main, /dataset_id\s*=\s*"\$\{var\.dataset_prefix\}\$\{each\.value\}"/);
});

test("every var.X is declared in variables.tf and every referenced resource or output is defined", () => {
  const hcl = main + read("outputs.tf");
  const variables = new Set([...read("variables.tf").matchAll(/^variable "([^"]+)"/gm)].map((m) => m[1]));
  for (const m of hcl.matchAll(/\bvar\.([a-z_][a-z0-9_]*)/g)) assert.ok(variables.has(m[1]), `var.${m[1]} is not declared in variables.tf`);
  const resources = new Set([...main.matchAll(/^(?:resource|data) "([a-z0-9_]+)" "([a-z0-9_]+)"/gm)].map((m) => `${m[1]}.${m[2]}`));
  for (const m of hcl.matchAll(/\b(google_[a-z0-9_]+)\.([a-z0-9_]+)\./g)) assert.ok(resources.has(`${m[1]}.${m[2]}`), `${m[1]}.${m[2]} is referenced but not defined`);
  const locals = new Set([...(/locals\s*\{([\s\S]*?)\n\}/.exec(main)?.[1] ?? "").matchAll(/^ {2}([a-z_]+)\s*=/gm)].map((m) => m[1]));
  for (const m of hcl.matchAll(/\blocal\.([a-z_]+)/g)) assert.ok(locals.has(m[1]), `local.${m[1]} is not defined`);
});

test("terraform fmt accepts the HCL (when a terraform binary is on PATH)", (t) => {
  const probe = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (probe.error) {
    t.skip("no terraform binary on PATH");
    return;
  }
  const fmt = spawnSync("terraform", ["fmt", "-check", "-diff", TF], { encoding: "utf8" });
  assert.equal(fmt.status, 0, `terraform fmt -check ${TF}:\n${fmt.stdout}${fmt.stderr}`);
});

test("no launch name means two things: requests in flight are requestConcurrency, worker VMs are the environment's maxWorkers", () => {
  const params = launchParameters();
  assert.equal(params.get("requestConcurrency"), "tostring(var.request_concurrency)");
  assert.ok(!params.has("maxWorkers"), "maxWorkers is Dataflow's VM count, not an api2lake parameter");
  const environment = /\benvironment\s*=\s*\{[\s\S]*?\bmaxWorkers\s*=\s*(\S+)/.exec(main);
  assert.ok(environment, "main.tf: no maxWorkers in the launch environment block");
  assert.equal(environment[1], "var.dataflow_max_workers");
  assert.match(read("variables.tf"), /variable "request_concurrency"[\s\S]*?default\s*=\s*8\b/);
  assert.equal(option("requestConcurrency")?.default, "8", "the Terraform default follows the option's");
});
