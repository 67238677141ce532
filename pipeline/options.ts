/**
 * Every option of every command, declared once: meaning, type, format example, default,
 * required-ness per command and validation. CLI flags, typed values, `--help`, the Flex Template
 * metadata, the template launch parameters and the README options table are all derived from
 * this table (pipeline/cli.ts, pipeline/template-metadata.ts, pipeline/template-command.ts).
 * No default and no required check is written anywhere else: code that builds options by hand
 * (tests, `demo`) completes them with `withDefaults`.
 */
export type OptionType = "string" | "integer" | "enum" | "date" | "path" | "list" | "boolean";

export interface OptionSpec {
  type: OptionType;
  help: string;
  example?: string;
  /** As it would be typed on the command line; parsed like a flag value (e.g. "8" -> 8). */
  default?: string;
  values?: readonly string[];
  /** Validation regex for the textual value (Dataflow templates carry it too). */
  pattern?: string;
  /** Commands that accept the option. */
  commands: readonly CommandName[];
  /** Commands that refuse to run without it. */
  required?: readonly CommandName[];
  /** Required, whatever the command, when another option has this value (e.g. `--sink gcp`). */
  requiredWhen?: { option: string; value: string };
  /** A template parameter of the Flex Template (the batch `run`). */
  template?: boolean;
  /** Read from this environment variable when the flag is absent. */
  env?: string;
  /** May be given several times; the values are joined with newlines. */
  repeatable?: boolean;
}

export type CommandName =
  | "run" | "demo" | "demo-api" | "serve" | "query" | "publish" | "stream" | "schema" | "report" | "tables" | "replay" | "check" | "init"
  | "template metadata" | "template build" | "template launch";

const DATE = "^(\\d{4}-\\d{2}-\\d{2}|\\d{2}/\\d{2}/\\d{4})$";
const POSITIVE = "^[1-9][0-9]*$";
// `stream` takes --runner too: micro-batches on the direct runner, an unbounded job on Dataflow.
const RUN_LIKE = ["run", "demo", "replay"] as const;
const SINKS = ["run", "demo", "stream", "serve", "query", "report", "tables", "replay"] as const;
/** Commands that open the lake of a `--sink` (schema reads only the lake). */
const STORES = [...SINKS, "schema"] as const;
const GCP = { option: "sink", value: "gcp" } as const;
const TEMPLATE_GCLOUD = ["template build", "template launch"] as const;
const LAUNCH = ["template launch"] as const;

export const OPTIONS = {
  config: { type: "path", help: "Source config YAML (see README) or the name of a built-in preset.", example: "presets/commerce.yaml", commands: ["run", "publish", "stream", "schema", "report", "replay", "check", ...LAUNCH], required: ["run", "publish", "stream", "schema", "replay", "check", ...LAUNCH], template: true },
  entities: { type: "list", help: "Entities to extract: a comma list, ALL, or a file listing names (.txt, .csv, .xlsx first column).", example: "customers,sales", default: "ALL", commands: ["run", "publish", "check", ...LAUNCH], template: true },
  from: { type: "date", help: "First day of the date range (ISO or dd/MM/yyyy). With --to, a backfill of exactly the missing slices.", example: "2024-01-01", pattern: DATE, commands: ["run", "publish", "check", ...LAUNCH], template: true },
  to: { type: "date", help: "Last day of the date range, inclusive.", example: "10/01/2024", pattern: DATE, commands: ["run", "publish", "check", ...LAUNCH], template: true },
  requestConcurrency: { type: "integer", help: "Requests in flight per source in one process (a Dataflow worker is one such process). Was --maxWorkers.", default: "8", pattern: POSITIVE, commands: ["run", "demo", "publish", "replay", ...LAUNCH], template: true },
  runner: { type: "enum", help: "Beam runner: direct (in process), portable (local portable job service, many bundles; see Runners), dataflow.", values: ["direct", "portable", "dataflow"], default: "direct", commands: [...RUN_LIKE, "stream"] },
  region: { type: "string", help: "Dataflow region of the job (Beam's region).", default: "europe-west1", env: "API2LAKE_REGION", pattern: "^[a-z]+-[a-z]+[0-9]+$", commands: [...RUN_LIKE, ...LAUNCH] },
  cleanWorkers: { type: "integer", help: "Direct runner: worker threads that clean records, besides the main thread (absent: one per core; 0 cleans on the main thread).", pattern: "^[0-9]+$", commands: RUN_LIKE },
  maxNumWorkers: { type: "integer", help: "Dataflow: most worker VMs of the job (Beam's maxNumWorkers; Dataflow decides when absent).", pattern: POSITIVE, commands: [...RUN_LIKE, ...LAUNCH] },
  out: { type: "path", help: "Local output folder: lake/, warehouse.duckdb, serving/, runs/, state/.", default: "./out", commands: ["run", "demo", "stream", "serve", "query", "schema", "report", "tables", "replay", "init"] },
  sink: { type: "enum", help: "Where data lands: local (embedded DuckDB, LevelDB, files) or gcp (GCS, BigQuery, Bigtable).", values: ["local", "gcp"], default: "local", commands: STORES, template: true },
  project: { type: "string", help: "Google Cloud project (sink gcp).", example: "my-project", env: "GOOGLE_CLOUD_PROJECT", pattern: "^[a-z][-a-z0-9]{4,28}[a-z0-9]$", commands: [...STORES, "publish", ...TEMPLATE_GCLOUD], required: LAUNCH, requiredWhen: GCP, template: true },
  bucket: { type: "string", help: "Cloud Storage bucket for the lake, manifests and state (sink gcp).", example: "my-lake", pattern: "^[a-z0-9][-_.a-z0-9]{1,220}[a-z0-9]$", commands: [...STORES, ...LAUNCH], required: LAUNCH, requiredWhen: GCP, template: true },
  datasetPrefix: { type: "string", help: "Prefix of the BigQuery datasets lake, hub and dataproducts.", example: "dev_", default: "", pattern: "^[a-zA-Z0-9_]*$", commands: [...SINKS, ...LAUNCH], template: true },
  bigtableInstance: { type: "string", help: "Bigtable instance of the serving store (sink gcp).", example: "serving", default: "api2lake", commands: ["run", "demo", "stream", "serve", "replay", ...LAUNCH], template: true },
  gcpTimeoutMs: { type: "integer", help: "Ceiling in milliseconds for each BigQuery or Bigtable call (bounded retries follow).", default: "60000", pattern: POSITIVE, commands: [...SINKS, ...LAUNCH], template: true },
  lockStaleHours: { type: "integer", help: "Age in hours after which a --sink gcp run takes over another run's bucket lock (lake/state/run.lock).", default: "6", pattern: POSITIVE, commands: RUN_LIKE },
  location: { type: "string", help: "BigQuery location of new datasets.", default: "EU", commands: [...SINKS, ...LAUNCH], template: true },
  topic: { type: "string", help: "Pub/Sub topic to publish to (id or projects/P/topics/T).", example: "invoices", commands: ["publish"], required: ["publish"] },
  subscription: { type: "string", help: "Pub/Sub subscription to consume (id or projects/P/subscriptions/S).", example: "invoices-api2lake", commands: ["stream"], required: ["stream"] },
  entity: { type: "string", help: "Entity of the config that the streamed messages are.", example: "invoices", commands: ["stream"], required: ["stream"] },
  paneMinutes: { type: "integer", help: "Streaming on Dataflow: minutes between the panes a day window writes (early, then late ones).", default: "15", pattern: POSITIVE, commands: ["stream"] },
  allowedLatenessHours: { type: "integer", help: "Streaming on Dataflow: hours after its day that a window still takes records; older ones go to the oldest open window.", default: "48", pattern: POSITIVE, commands: ["stream"] },
  batchSize: { type: "integer", help: "Messages per micro-batch when streaming.", default: "500", pattern: POSITIVE, commands: ["stream"] },
  maxBatches: { type: "integer", help: "Stop streaming after this many pulls, empty ones included (0 = until SIGINT/SIGTERM).", default: "0", pattern: "^[0-9]+$", commands: ["stream"] },
  port: { type: "integer", help: "Port of the demo API (0 = any free port).", default: "8080", pattern: "^[0-9]+$", commands: ["demo-api"] },
  seed: { type: "integer", help: "Seed of the demo data.", default: "42", pattern: "^[0-9]+$", commands: ["demo-api", "demo"] },
  scale: { type: "integer", help: "Multiplies the demo API's default sizes.", default: "1", pattern: POSITIVE, commands: ["demo-api", "demo"] },
  prefix: { type: "string", help: "Row-key prefix to scan.", example: "283181971#", commands: ["serve"] },
  limit: { type: "integer", help: "serve: rows to print (default 20). run: a trial run of at most N records per entity; watermarks stay put.", example: "100", pattern: POSITIVE, commands: ["serve", "run"] },
  url: { type: "string", help: "init: the endpoint to sample (its query parameters are kept).", example: "https://api.example.com/v1/orders?per_page=50", commands: ["init"], required: ["init"] },
  header: { type: "string", help: "init: a request header \"Name: value\" (repeatable); secret-looking values become ${VAR} references.", example: "X-API-Key: ...", commands: ["init"], repeatable: true },
  fromRaw: { type: "boolean", help: "Rebuild hub, dataproducts and serving rows from the raw lake instead of calling the API (--from/--to pick raw dt= days).", default: "false", commands: ["run"] },
  deadletters: { type: "string", help: "Entity whose dead letters (lake/deadletter/<entity>/) are pushed back through the pipeline.", example: "customers", pattern: "^[a-z][a-z0-9_]*$", commands: ["replay"], required: ["replay"] },
  run: { type: "string", help: "Replay only the dead letters of this run id.", example: "20260110T060000Z-a1b2c3", commands: ["replay"] },
  reportOut: { type: "path", help: "Folder of the report: report.html and jobs.xlsx (default <out>/report; ./report with --sink gcp).", example: "./out/report", commands: ["report"] },
  quiet: { type: "boolean", help: "No progress display (the summary still prints).", default: "false", commands: RUN_LIKE },
  logLevel: { type: "enum", help: "Lowest level of the run log runs/<run_id>.log (debug: every request and page).", values: ["debug", "info", "warn", "error"], default: "info", commands: RUN_LIKE },
  jsonLogs: { type: "boolean", help: "Also write the run log's JSON lines to stdout (the summary then goes to stderr).", default: "false", commands: RUN_LIKE },
  format: { type: "enum", help: "Output of rows: an aligned table (default on a terminal), JSON lines (default otherwise) or CSV.", values: ["table", "jsonl", "csv"], commands: ["query", "tables"] },
  templateOut: { type: "path", help: "Where to write the Flex Template metadata.", default: "deploy/metadata.json", commands: ["template metadata", "template build"] },
  templateFile: { type: "string", help: "gs:// path of the Flex Template spec (terraform output template_spec_gcs_path).", example: "gs://my-lake/templates/api2lake.json", pattern: "^gs://[a-z0-9][-_.a-z0-9]*[a-z0-9]/.+\\.json$", commands: TEMPLATE_GCLOUD, required: TEMPLATE_GCLOUD },
  image: { type: "string", help: "Flex Template image built from deploy/flex-template (terraform output image_repository + a tag).", example: "europe-west1-docker.pkg.dev/my-project/api2lake/launcher:v1", commands: ["template build"], required: ["template build"] },
  jobName: { type: "string", help: "Dataflow job name (Beam's jobName; default api2lake-<UTC time>).", example: "api2lake-manual-1", pattern: "^[a-z]([-a-z0-9]*[a-z0-9])?$", commands: LAUNCH },
  serviceAccountEmail: { type: "string", help: "Service account of the launcher VM and the workers (Dataflow's serviceAccountEmail).", example: "api2lake-pipeline@my-project.iam.gserviceaccount.com", commands: LAUNCH },
  print: { type: "boolean", help: "Print the gcloud command(s) instead of running them.", default: "false", commands: TEMPLATE_GCLOUD },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** Flags that were renamed: a clear error instead of "unknown option". */
const RENAMED: Readonly<Record<string, string>> = {
  maxWorkers: "--maxWorkers was renamed --requestConcurrency (requests in flight per source); Dataflow's worker VMs are --maxNumWorkers",
};

type Spec<K extends OptionName> = (typeof OPTIONS)[K];

/** The typed value of an option: integer -> number, list -> string[], enum -> union of its values, boolean -> boolean. */
export type OptionValue<S> = S extends { type: "integer" } ? number
  : S extends { type: "list" } ? string[]
    : S extends { type: "boolean" } ? boolean
      : S extends { type: "enum"; values: readonly (infer V)[] } ? V
        : string;

/** Any subset of options, typed (what code that builds options by hand passes around). */
export type ParsedOptions = { [K in OptionName]?: OptionValue<Spec<K>> };

/** Keys that every command of C accepts (C may be a union: then all of them). */
type Accepted<C extends CommandName> = { [K in OptionName]: [C] extends [Spec<K>["commands"][number]] ? K : never }[OptionName];
type WithDefault = { [K in OptionName]: Spec<K> extends { default: string } ? K : never }[OptionName];
type RequiredFor<C extends CommandName> = { [K in OptionName]: Spec<K> extends { required: readonly (infer R)[] } ? ([C] extends [R] ? K : never) : never }[OptionName];

/** Options completed with their defaults for command(s) C: every defaulted option is present. */
export type DefaultedOptions<C extends CommandName> = ParsedOptions & { [K in Accepted<C> & WithDefault]: OptionValue<Spec<K>> };
/** What the CLI hands a command: defaults filled and required options present. */
export type CommandOptions<C extends CommandName> = DefaultedOptions<C> & { [K in Accepted<C> & RequiredFor<C>]: OptionValue<Spec<K>> };

/** Checks one textual value against its declaration; returns a sentence, or undefined when valid. */
export function validateOption(name: OptionName, value: string): string | undefined {
  const spec: OptionSpec = OPTIONS[name];
  if (spec.type === "enum" && spec.values && !spec.values.includes(value))
    return `--${name}: "${value}" is not one of ${spec.values.join(", ")}`;
  if (spec.type === "integer" && !/^-?\d+$/.test(value)) return `--${name}: "${value}" is not an integer`;
  if (spec.type === "boolean" && value !== "true" && value !== "false") return `--${name}: "${value}" is not true or false`;
  if (spec.pattern && !new RegExp(spec.pattern).test(value))
    return `--${name}: "${value}" does not match ${spec.pattern}${spec.example ? ` (e.g. ${spec.example})` : ""}`;
  return undefined;
}

/** A valid textual value -> its typed value (a comma list -> trimmed non-empty items). */
export function typedValue(name: OptionName, text: string): unknown {
  const spec: OptionSpec = OPTIONS[name];
  if (spec.type === "integer") return Number(text);
  if (spec.type === "boolean") return text === "true";
  if (spec.type === "list") return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return text;
}

/** A typed value -> its text as typed on the command line or passed as a template parameter. */
export function textValue(value: unknown): string {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/**
 * Completes options of command(s) `command` with their declared env fallbacks and defaults;
 * options it does not accept are left as given. No required check (a library caller gives a
 * config object, not `--config`). Defaults are the declared text, typed as a flag would be.
 */
export function withDefaults<C extends CommandName>(command: C | readonly C[], given: ParsedOptions, env: NodeJS.ProcessEnv = process.env): DefaultedOptions<C> {
  const commands: readonly CommandName[] = Array.isArray(command) ? command : [command as CommandName];
  const out: Record<string, unknown> = { ...given };
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!commands.every((c) => spec.commands.includes(c)) || out[name] !== undefined) continue;
    const text = spec.env && env[spec.env] ? env[spec.env] : spec.default;
    if (text !== undefined) out[name] = typedValue(name, text);
  }
  return out as DefaultedOptions<C>;
}

/** Sentences for options that a `requiredWhen` makes required and are missing (e.g. `--sink gcp` without `--project`). */
export function conditionalProblems(options: ParsedOptions): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    const when = spec.requiredWhen;
    if (!when || (options as Record<string, unknown>)[when.option] !== when.value) continue;
    const value = options[name];
    if (value === undefined || value === "") problems.push(`--${name} is required with --${when.option} ${when.value} (${spec.help})`);
  }
  return problems;
}

/**
 * Parses `--name value` / `--name=value` (a boolean also as a bare `--name`) for one command:
 * unknown or renamed flags, missing values, invalid values and missing required options are
 * errors that name the flag; env fallbacks and defaults are filled in; values are typed.
 */
export function parseOptions<C extends CommandName>(command: C, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { options: CommandOptions<C>; positional: string[]; errors: string[] } {
  const given: Record<string, unknown> = {};
  const invalid = new Set<string>();
  const positional: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    // `--from-raw` is `--fromRaw`: every flag may be spelled in kebab case too.
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as OptionName;
    const spec: OptionSpec | undefined = Object.prototype.hasOwnProperty.call(OPTIONS, name) ? OPTIONS[name] : undefined;
    if (!spec || !spec.commands.includes(command)) {
      const renamed = Object.prototype.hasOwnProperty.call(RENAMED, name) ? RENAMED[name] : "";
      errors.push(renamed || `unknown option --${name} for "${command}" (see api2lake ${command} --help)`);
      continue;
    }
    if (spec.type === "boolean" && eq < 0) {
      given[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) {
      if (value !== undefined) i--;
      errors.push(`--${name} needs a value`);
      continue;
    }
    const problem = value === "" ? undefined : validateOption(name, value);
    if (problem) {
      errors.push(problem);
      invalid.add(name);
    } else if (spec.repeatable && typeof given[name] === "string") given[name] = `${given[name] as string}\n${value}`;
    else given[name] = value === "" && spec.type !== "string" && spec.type !== "path" ? undefined : typedValue(name, value);
  }
  const options = withDefaults(command, given as ParsedOptions, env) as Record<string, unknown>;
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.commands.includes(command)) continue;
    const fromEnv = given[name] === undefined && spec.env && env[spec.env];
    if (fromEnv) {
      const problem = validateOption(name, env[spec.env!]!);
      if (problem) errors.push(`${problem} (from the environment variable ${spec.env})`);
    }
    if (spec.required?.includes(command) && !invalid.has(name) && (options[name] === undefined || options[name] === ""))
      errors.push(`--${name} is required for "${command}" (${spec.help})`);
  }
  errors.push(...conditionalProblems(options as ParsedOptions));
  return { options: options as CommandOptions<C>, positional: positional, errors: errors };
}

/** `--help` text for one command, from the declarations. */
export function optionsHelp(command: CommandName): string {
  const lines: string[] = [];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.commands.includes(command)) continue;
    const kind = spec.type === "enum" && spec.values ? spec.values.join("|") : spec.type;
    const required = spec.required?.includes(command) ? "required" : spec.requiredWhen ? `required with --${spec.requiredWhen.option} ${spec.requiredWhen.value}` : "";
    const extra = [required, spec.default !== undefined && spec.default !== "" ? `default ${spec.default}` : "", spec.example ? `e.g. ${spec.example}` : "", spec.env ? `env ${spec.env}` : ""].filter(Boolean).join("; ");
    lines.push(`  --${name} <${kind}>`.padEnd(34) + spec.help + (extra ? ` (${extra})` : ""));
  }
  return lines.join("\n");
}
