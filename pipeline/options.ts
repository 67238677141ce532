/**
 * Every option of every command, declared once: meaning, format example, default and
 * validation. CLI flags, `--help`, the Flex Template metadata and the README options table
 * are all derived from this table (pipeline/cli.ts, deploy/template-metadata.ts).
 */
export type OptionType = "string" | "integer" | "enum" | "date" | "path" | "list";

export interface OptionSpec {
  type: OptionType;
  help: string;
  example?: string;
  default?: string;
  values?: readonly string[];
  /** Validation regex for string-like values (Dataflow templates carry it too). */
  pattern?: string;
  /** Commands that accept the option. */
  commands: readonly CommandName[];
  /** Shown as a template parameter (batch/streaming Dataflow jobs). */
  template?: boolean;
  /** Read from this environment variable when the flag is absent. */
  env?: string;
  /** May be given several times; the values are joined with newlines. */
  repeatable?: boolean;
}

export type CommandName = "run" | "demo" | "demo-api" | "serve" | "query" | "publish" | "stream" | "template" | "schema" | "check" | "init";

const DATE = "^(\\d{4}-\\d{2}-\\d{2}|\\d{2}/\\d{2}/\\d{4})$";
// Streaming micro-batches run on the direct runner; an unbounded Dataflow read does not exist yet.
const RUN_LIKE: readonly CommandName[] = ["run", "demo"];
const SINKS: readonly CommandName[] = ["run", "demo", "stream", "serve", "query"];

export const OPTIONS = {
  config: { type: "path", help: "Source config YAML (see README) or the name of a built-in preset.", example: "presets/commerce.yaml", commands: ["run", "publish", "stream", "schema", "check"], template: true },
  entities: { type: "list", help: "Entities to extract: a comma list, ALL, or a file listing names (.txt, .csv, .xlsx first column).", example: "customers,sales", default: "ALL", commands: ["run", "publish", "check"], template: true },
  from: { type: "date", help: "First day of the date range (ISO or dd/MM/yyyy). With --to, a backfill of exactly the missing slices.", example: "2024-01-01", pattern: DATE, commands: ["run", "publish", "check"], template: true },
  to: { type: "date", help: "Last day of the date range, inclusive.", example: "10/01/2024", pattern: DATE, commands: ["run", "publish", "check"], template: true },
  maxWorkers: { type: "integer", help: "Concurrent requests per source in this process.", default: "8", pattern: "^[1-9][0-9]*$", commands: ["run", "demo", "publish"], template: true },
  runner: { type: "enum", help: "Beam runner.", values: ["direct", "dataflow"], default: "direct", commands: RUN_LIKE },
  out: { type: "path", help: "Local output folder: lake/, warehouse.duckdb, serving/, runs/, state/.", default: "./out", commands: ["run", "demo", "stream", "serve", "query", "schema", "init"] },
  sink: { type: "enum", help: "Where data lands: local (embedded DuckDB, LevelDB, files) or gcp (GCS, BigQuery, Bigtable).", values: ["local", "gcp"], default: "local", commands: [...SINKS, "schema"], template: true },
  project: { type: "string", help: "Google Cloud project (sink gcp).", example: "my-project", env: "GOOGLE_CLOUD_PROJECT", pattern: "^[a-z][-a-z0-9]{4,28}[a-z0-9]$", commands: [...SINKS, "publish", "schema"], template: true },
  bucket: { type: "string", help: "Cloud Storage bucket for the lake, manifests and state (sink gcp).", example: "my-lake", pattern: "^[a-z0-9][-_.a-z0-9]{1,220}[a-z0-9]$", commands: [...SINKS, "schema"], template: true },
  datasetPrefix: { type: "string", help: "Prefix of the BigQuery datasets lake, hub and dataproducts.", example: "dev_", default: "", pattern: "^[a-zA-Z0-9_]*$", commands: SINKS, template: true },
  bigtableInstance: { type: "string", help: "Bigtable instance of the serving store (sink gcp).", example: "serving", default: "api2lake", commands: SINKS, template: true },
  gcpTimeoutMs: { type: "integer", help: "Ceiling in milliseconds for each BigQuery or Bigtable call (bounded retries follow).", default: "60000", pattern: "^[1-9][0-9]*$", commands: SINKS, template: true },
  lockStaleHours: { type: "integer", help: "Age in hours after which a --sink gcp run takes over another run's bucket lock (lake/state/run.lock).", default: "6", pattern: "^[1-9][0-9]*$", commands: RUN_LIKE },
  location: { type: "string", help: "BigQuery location of new datasets.", default: "EU", commands: SINKS, template: true },
  topic: { type: "string", help: "Pub/Sub topic to publish to (id or projects/P/topics/T).", example: "invoices", commands: ["publish"] },
  subscription: { type: "string", help: "Pub/Sub subscription to consume (id or projects/P/subscriptions/S).", example: "invoices-api2lake", commands: ["stream"] },
  entity: { type: "string", help: "Entity of the config that the streamed messages are.", example: "invoices", commands: ["stream"] },
  batchSize: { type: "integer", help: "Messages per micro-batch when streaming.", default: "500", pattern: "^[1-9][0-9]*$", commands: ["stream"] },
  maxBatches: { type: "integer", help: "Stop streaming after this many pulls, empty ones included (0 = until SIGINT/SIGTERM).", default: "0", pattern: "^[0-9]+$", commands: ["stream"] },
  port: { type: "integer", help: "Port of the demo API (0 = any free port).", default: "8080", pattern: "^[0-9]+$", commands: ["demo-api"] },
  seed: { type: "integer", help: "Seed of the demo data.", default: "42", pattern: "^[0-9]+$", commands: ["demo-api", "demo"] },
  scale: { type: "integer", help: "Multiplies the demo API's default sizes.", default: "1", pattern: "^[1-9][0-9]*$", commands: ["demo-api", "demo"] },
  prefix: { type: "string", help: "Row-key prefix to scan.", example: "283181971#", commands: ["serve"] },
  limit: { type: "integer", help: "serve: rows to print (default 20). run: a trial run of at most N records per entity; watermarks stay put.", example: "100", pattern: "^[1-9][0-9]*$", commands: ["serve", "run"] },
  url: { type: "string", help: "init: the endpoint to sample (its query parameters are kept).", example: "https://api.example.com/v1/orders?per_page=50", commands: ["init"] },
  header: { type: "string", help: "init: a request header \"Name: value\" (repeatable); secret-looking values become ${VAR} references.", example: "X-API-Key: ...", commands: ["init"], repeatable: true },
  templateOut: { type: "path", help: "Where to write the Flex Template metadata.", default: "deploy/metadata.json", commands: ["template"] },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
export type ParsedOptions = Partial<Record<OptionName, string>>;

/** Checks one value against its declaration; returns a sentence, or undefined when valid. */
export function validateOption(name: OptionName, value: string): string | undefined {
  const spec: OptionSpec = OPTIONS[name];
  if (spec.type === "enum" && spec.values && !spec.values.includes(value))
    return `--${name}: "${value}" is not one of ${spec.values.join(", ")}`;
  if (spec.type === "integer" && !/^-?\d+$/.test(value)) return `--${name}: "${value}" is not an integer`;
  if (spec.pattern && !new RegExp(spec.pattern).test(value))
    return `--${name}: "${value}" does not match ${spec.pattern}${spec.example ? ` (e.g. ${spec.example})` : ""}`;
  return undefined;
}

/**
 * Parses `--name value` / `--name=value` for one command: unknown flags, missing values and
 * invalid values are errors that name the flag; defaults and env fallbacks are filled in.
 */
export function parseOptions(command: CommandName, argv: readonly string[]): { options: ParsedOptions; positional: string[]; errors: string[] } {
  const options: ParsedOptions = {};
  const positional: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)) as OptionName;
    const spec: OptionSpec | undefined = Object.prototype.hasOwnProperty.call(OPTIONS, name) ? OPTIONS[name] : undefined;
    if (!spec || !spec.commands.includes(command)) {
      errors.push(`unknown option --${name} for "${command}" (see api2lake ${command} --help)`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) {
      if (value !== undefined) i--;
      errors.push(`--${name} needs a value`);
      continue;
    }
    options[name] = spec.repeatable && options[name] !== undefined ? `${options[name]}\n${value}` : value;
  }
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.commands.includes(command)) continue;
    if (options[name] === undefined && spec.env && process.env[spec.env]) options[name] = process.env[spec.env];
    if (options[name] === undefined && spec.default !== undefined) options[name] = spec.default;
    const value = options[name];
    if (value !== undefined && value !== "") {
      const problem = validateOption(name, value);
      if (problem) errors.push(problem);
    }
  }
  return { options: options, positional: positional, errors: errors };
}

/** `--help` text for one command, from the declarations. */
export function optionsHelp(command: CommandName): string {
  const lines: string[] = [];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.commands.includes(command)) continue;
    const kind = spec.type === "enum" && spec.values ? spec.values.join("|") : spec.type;
    const extra = [spec.default !== undefined && spec.default !== "" ? `default ${spec.default}` : "", spec.example ? `e.g. ${spec.example}` : "", spec.env ? `env ${spec.env}` : ""].filter(Boolean).join("; ");
    lines.push(`  --${name} <${kind}>`.padEnd(34) + spec.help + (extra ? ` (${extra})` : ""));
  }
  return lines.join("\n");
}
