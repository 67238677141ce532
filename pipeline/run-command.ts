import * as path from "path";
import type { CommandOptions, ParsedOptions } from "./options";
import { executeRun, printSummary } from "./run";
import { resolveConfigPath } from "./presets";
import { loadSourceConfig } from "../sources/rest/config-loader";
import type { SourceConfig } from "../model/source-config";
import { UsageError } from "./usage-error";
import { exitCodeOf, handleInterrupts } from "./interrupts";
import { startRunConsole } from "./run-console";
import { openSecrets } from "../sources/rest/secrets";
import { parseDateArg } from "../sources/rest/slices";
import type { LakeRead } from "./graph";

/** A config that does not load is the user's to fix: a usage error naming the file and key. */
export function loadConfig(config: string): SourceConfig {
  try {
    return loadSourceConfig(resolveConfigPath(config));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export async function runCommand(options: CommandOptions<"run">): Promise<number> {
  const source = loadConfig(options.config);
  const stopHandling = handleInterrupts();
  const shown = startRunConsole(options, openSecrets(source).secrets);
  try {
    const read = options.fromRaw ? rawRead(options) : undefined;
    const range = read ? {} : { from: options.from, to: options.to };
    const manifest = await executeRun({ sources: [source], entities: options.entities, ...range, options: options, ...(read ? { read: read } : {}) });
    shown.stop();
    printSummary(manifest, path.resolve(options.out), shown.summaryStream);
    if (read) (shown.summaryStream ?? process.stdout).write("rebuilt from the raw lake: no API request was made, no watermark moved, no raw file was written\n");
    return exitCodeOf(manifest.status);
  } finally {
    shown.stop();
    stopHandling();
  }
}

/**
 * `--from-raw [--from D] [--to D]`: the raw layer's `dt=` days to rebuild from (UTC, both
 * inclusive; a timestamp counts as its UTC day). A bad date is a usage error naming the flag.
 */
export function rawRead(options: ParsedOptions): LakeRead {
  const day = (value: string | undefined, flag: string): string | undefined => {
    if (value === undefined) return undefined;
    try {
      return parseDateArg(value, flag).date.toISOString().slice(0, 10);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const from = day(options.from, "--from");
  const to = day(options.to, "--to");
  if (from !== undefined && to !== undefined && to < from) throw new UsageError(`--to (${options.to}) is before --from (${options.from})`);
  return { kind: "raw", ...(from === undefined ? {} : { from: from }), ...(to === undefined ? {} : { to: to }) };
}
