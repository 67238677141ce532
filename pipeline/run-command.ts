import * as path from "path";
import type { CommandOptions, ParsedOptions } from "./options";
import { executeRun, printSummary } from "./run";
import { loadConfig } from "./load-config";
import { UsageError } from "./usage-error";
import { exitCodeOf, handleInterrupts } from "./interrupts";
import { startRunConsole } from "./run-console";
import { openSecrets } from "../sources/rest/secrets";
import { parseDateArg } from "../sources/rest/slices";
import type { LakeRead } from "./graph";

// Moved to ./load-config; re-exported for the existing importers.
export { loadConfig };

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
