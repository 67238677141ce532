import { OPTIONS, optionsHelp, parseOptions } from "./options";
import { UsageError } from "./usage-error";
import type { CommandName, ParsedOptions } from "./options";
import { runCommand } from "./run-command";
import { demoCommand, demoApiCommand } from "./demo-command";
import { serveCommand } from "./serve-command";
import { templateCommand } from "./template-command";
import { queryCommand } from "./query-command";
import { publishCommand, streamCommand } from "./stream-command";
import { schemaCommand } from "./schema-command";
import { checkCommand } from "./check-command";
import { initCommand } from "./init-command";

/** One entry per command: what it does and how it runs. `--help` is derived from OPTIONS. */
interface Command {
  summary: string;
  usage: string;
  run(options: ParsedOptions, positional: string[]): Promise<number>;
}

const COMMANDS: Record<CommandName, Command> = {
  run: {
    summary: "Extract, clean and land the entities of a source config (batch).",
    usage: "api2lake run --config <file.yaml|preset> [--entities a,b] [--from D --to D] [--sink local|gcp]",
    run: (options) => runCommand(options),
  },
  demo: {
    summary: "Start the demo API and run every preset through the pipeline into --out (what `npm start` does).",
    usage: "api2lake demo [--out ./out]",
    run: (options) => demoCommand(options),
  },
  "demo-api": {
    summary: "Serve the built-in sample API (five presets, several pagination styles, faults on request).",
    usage: "api2lake demo-api [--port 8080] [--seed 42] [--scale 1]",
    run: (options) => demoApiCommand(options),
  },
  serve: {
    summary: "Read rows back from the serving store (embedded or Bigtable).",
    usage: "api2lake serve read <table> [--prefix P] [--limit N] [--sink local|gcp]",
    run: (options, positional) => serveCommand(options, positional),
  },
  publish: {
    summary: "Fetch records from a source and publish each to Pub/Sub (what the scheduled function did).",
    usage: "api2lake publish --config <file|preset> --entities <entity> --topic <topic> [--project P]",
    run: (options) => publishCommand(options),
  },
  stream: {
    summary: "Consume a Pub/Sub subscription through the same transforms in bounded micro-batches.",
    usage: "api2lake stream --config <file|preset> --entity <entity> --subscription <sub> [--sink local|gcp]",
    run: (options) => streamCommand(options),
  },
  query: {
    summary: "Run SQL on the warehouse (the local DuckDB file, or BigQuery with --sink gcp) and print rows as JSON.",
    usage: 'api2lake query "SELECT * FROM hub.customers LIMIT 5" [--out ./out]',
    run: (options, positional) => queryCommand(options, positional),
  },
  schema: {
    summary: "Show an entity's schema: source path -> column and type, variant columns, collisions, contract.",
    usage: "api2lake schema <entity> --config <file.yaml|preset> [--out ./out] [--sink local|gcp]",
    run: (options, positional) => schemaCommand(options, positional),
  },
  check: {
    summary: "Try a config: fetch the first page of each entity and show what a run would land (writes nothing).",
    usage: "api2lake check --config <file.yaml|preset> [--entities a,b] [--from D [--to D]]",
    run: (options) => checkCommand(options),
  },
  init: {
    summary: "Write a starting source config from one sample response (records path, key, paginator, field types).",
    usage: 'api2lake init --url <endpoint> [--header "Name: value" ...] [--out config.yaml]',
    run: (options) => initCommand(options),
  },
  template: {
    summary: "Write the Flex Template metadata derived from the option declarations.",
    usage: "api2lake template [--templateOut deploy/metadata.json]",
    run: (options) => templateCommand(options),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const lines = Object.entries(COMMANDS).map((entry) => `  ${entry[0].padEnd(width)}${entry[1].summary}`);
  return ["api2lake - move data from HTTP APIs and Pub/Sub into a lake, a warehouse and a serving store.", "", "Usage: api2lake <command> [options]", "", "Commands:", ...lines, "", "Run `api2lake <command> --help` for its options."].join("\n");
}

export function commandHelp(name: CommandName): string {
  const command = COMMANDS[name];
  return [`${command.summary}`, "", `Usage: ${command.usage}`, "", "Options:", optionsHelp(name)].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  if (!process.env.API2LAKE_DEBUG) console.debug = () => undefined; // the SDK logs every bundle at debug level
  const name = argv[0];
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (!(name in COMMANDS)) {
    console.error(`unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")}`);
    return 2;
  }
  const command = name as CommandName;
  const rest = argv.slice(1);
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
    return await COMMANDS[command].run(parsed.options, parsed.positional);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`api2lake ${command}: ${error.message}`);
    return 2;
  }
}

export { OPTIONS };
