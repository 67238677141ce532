import * as fs from "fs";
import * as path from "path";
import { OPTIONS, optionsHelp, parseOptions } from "./options";
import { UsageError } from "./usage-error";
import type { CommandName, CommandOptions } from "./options";

/*
 * Each command's module is required when that command runs, not when the CLI starts: `run` must not
 * pay for the report's ECharts or `stream`'s Pub/Sub client, and `--version`/`help` load none of them.
 * `typeof import(...)` keeps the commands' types; `require` is CommonJS's own (this package is "type": "commonjs").
 */
const runModule = () => require("./run-command") as typeof import("./run-command");
const demoModule = () => require("./demo-command") as typeof import("./demo-command");
const serveModule = () => require("./serve-command") as typeof import("./serve-command");
const templateModule = () => require("./template-command") as typeof import("./template-command");
const queryModule = () => require("./query-command") as typeof import("./query-command");
const tablesModule = () => require("./tables-command") as typeof import("./tables-command");
const streamModule = () => require("./stream-command") as typeof import("./stream-command");
const schemaModule = () => require("./schema-command") as typeof import("./schema-command");
const reportModule = () => require("./report-command") as typeof import("./report-command");
const replayModule = () => require("./replay-command") as typeof import("./replay-command");
const checkModule = () => require("./check-command") as typeof import("./check-command");
const initModule = () => require("./init-command") as typeof import("./init-command");

/** One entry per command: what it does and how it runs (`run` loads its module on use). `--help` is derived from OPTIONS. */
interface Command<C extends CommandName> {
  summary: string;
  usage: string;
  run(options: CommandOptions<C>, positional: string[]): Promise<number>;
}

const COMMANDS: { [C in CommandName]: Command<C> } = {
  run: {
    summary: "Extract, clean and land the entities of a source config (batch).",
    usage: "api2lake run --config <file.yaml|preset> [--entities a,b] [--from D --to D] [--from-raw] [--sink local|gcp]",
    run: (options) => runModule().runCommand(options),
  },
  demo: {
    summary: "Start the demo API and run every preset through the pipeline into --out (what `npm start` does).",
    usage: "api2lake demo [--out ./out]",
    run: (options) => demoModule().demoCommand(options),
  },
  "demo-api": {
    summary: "Serve the built-in sample API (five presets, several pagination styles, faults on request).",
    usage: "api2lake demo-api [--port 8080] [--seed 42] [--scale 1]",
    run: (options) => demoModule().demoApiCommand(options),
  },
  serve: {
    summary: "Read rows back from the serving store (embedded or Bigtable).",
    usage: "api2lake serve read <table> [--prefix P] [--limit N] [--sink local|gcp]",
    run: (options, positional) => serveModule().serveCommand(options, positional),
  },
  publish: {
    summary: "Fetch records from a source and publish each to Pub/Sub (what the scheduled function did).",
    usage: "api2lake publish --config <file|preset> --entities <entity> --topic <topic> [--project P]",
    run: (options) => streamModule().publishCommand(options),
  },
  stream: {
    summary: "Consume a Pub/Sub subscription through the same transforms in bounded micro-batches.",
    usage: "api2lake stream --config <file|preset> --entity <entity> --subscription <sub> [--sink local|gcp]",
    run: (options) => streamModule().streamCommand(options),
  },
  query: {
    summary: "Run SQL on the warehouse (the local DuckDB file, or BigQuery with --sink gcp) and print the rows.",
    usage: 'api2lake query "SELECT * FROM hub.customers LIMIT 5" [--out ./out] [--format table|jsonl|csv]',
    run: (options, positional) => queryModule().queryCommand(options, positional),
  },
  tables: {
    summary: "List the warehouse's schemas (lake, hub, dataproducts), tables and row counts.",
    usage: "api2lake tables [--out ./out] [--sink local|gcp] [--format table|jsonl|csv]",
    run: (options) => tablesModule().tablesCommand(options),
  },
  schema: {
    summary: "Show an entity's schema: source path -> column and type, variant columns, collisions, contract.",
    usage: "api2lake schema <entity> --config <file.yaml|preset> [--out ./out] [--sink local|gcp]",
    run: (options, positional) => schemaModule().schemaCommand(options, positional),
  },
  report: {
    summary: "Write the HTML report (charts, run history, 2-hour forecast) and the jobs workbook from the warehouse.",
    usage: "api2lake report [--out ./out | --sink gcp --project P --bucket B] [--reportOut <dir>] [--config <file|preset>]",
    run: (options) => reportModule().reportCommand(options),
  },
  replay: {
    summary: "Push an entity's dead letters back through the pipeline once their cause is fixed (each lands once).",
    usage: "api2lake replay --deadletters <entity> [--run R] --config <file.yaml|preset> [--sink local|gcp]",
    run: (options) => replayModule().replayCommand(options),
  },
  check: {
    summary: "Try a config: fetch the first page of each entity and show what a run would land (writes nothing).",
    usage: "api2lake check --config <file.yaml|preset> [--entities a,b] [--from D [--to D]]",
    run: (options) => checkModule().checkCommand(options),
  },
  init: {
    summary: "Write a starting source config from one sample response (records path, key, paginator, field types).",
    usage: 'api2lake init --url <endpoint> [--header "Name: value" ...] [--out config.yaml]',
    run: (options) => initModule().initCommand(options),
  },
  "template metadata": {
    summary: "Write the Flex Template metadata derived from the option declarations.",
    usage: "api2lake template metadata [--templateOut deploy/metadata.json]",
    run: (options) => templateModule().templateMetadataCommand(options),
  },
  "template build": {
    summary: "Write the metadata and build the Flex Template spec (gcloud dataflow flex-template build).",
    usage: "api2lake template build --image <image> --templateFile gs://B/templates/api2lake.json [--print]",
    run: (options) => templateModule().templateBuildCommand(options),
  },
  "template launch": {
    summary: "Launch the Flex Template once with typed parameters (gcloud dataflow flex-template run).",
    usage: "api2lake template launch --templateFile gs://B/templates/api2lake.json --config C --project P --bucket B [--print]",
    run: (options) => templateModule().templateLaunchCommand(options),
  },
};

/** `template build` etc.: a command word followed by a subcommand word. */
function commandName(argv: readonly string[]): { name: string; rest: readonly string[] } {
  if (argv[0] === "template" && argv[1] !== undefined && !argv[1].startsWith("-")) return { name: `template ${argv[1]}`, rest: argv.slice(2) };
  return { name: argv[0], rest: argv.slice(1) };
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const lines = Object.entries(COMMANDS).map((entry) => `  ${entry[0].padEnd(width)}${entry[1].summary}`);
  return ["api2lake - move data from HTTP APIs and Pub/Sub into a lake, a warehouse and a serving store.", "", "Usage: api2lake <command> [options]", "", "Commands:", ...lines, "", "Run `api2lake help <command>` (or `api2lake <command> --help`) for its options; `api2lake --version` for the version."].join("\n");
}

/** The installed package's version (package.json beside dist/). */
export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

export function commandHelp(name: CommandName): string {
  const command = COMMANDS[name];
  return [`${command.summary}`, "", `Usage: ${command.usage}`, "", "Options:", optionsHelp(name)].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  if (!process.env.API2LAKE_DEBUG) console.debug = () => undefined; // the SDK logs every bundle at debug level
  const named = commandName(argv);
  const name = named.name;
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(packageVersion());
    return 0;
  }
  if (name === "help" && named.rest[0] !== undefined) {
    const asked = commandName(named.rest).name ?? "";
    if (!(asked in COMMANDS)) {
      console.error(`unknown command "${asked}". Commands: ${Object.keys(COMMANDS).join(", ")}`);
      return 2;
    }
    console.log(commandHelp(asked as CommandName));
    return 0;
  }
  // Without a command there is nothing to do: usage on stderr, exit 2 (a usage error), as the README says.
  if (!name) {
    console.error(usage());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return 0;
  }
  if (name === "template") {
    console.error("api2lake template: give a subcommand: metadata, build or launch (api2lake template <subcommand> --help)");
    return 2;
  }
  if (!(name in COMMANDS)) {
    console.error(`unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")}`);
    return 2;
  }
  const command = name as CommandName;
  const rest = named.rest;
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(commandHelp(command));
    return 0;
  }
  const parsed = parseOptions(command, rest);
  if (parsed.errors.length) {
    for (const e of parsed.errors) console.error(`api2lake ${command}: ${e}`);
    return 2;
  }
  try {
    return await (COMMANDS[command] as Command<CommandName>).run(parsed.options, parsed.positional);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`api2lake ${command}: ${error.message}`);
    return 2;
  }
}

export { OPTIONS };
