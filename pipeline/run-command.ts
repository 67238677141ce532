import * as path from "path";
import type { CommandOptions } from "./options";
import { executeRun, printSummary } from "./run";
import { resolveConfigPath } from "./presets";
import { loadSourceConfig } from "../sources/rest/config-loader";
import type { SourceConfig } from "../model/source-config";
import { UsageError } from "./usage-error";
import { exitCodeOf, handleInterrupts } from "./interrupts";
import { startRunConsole } from "./run-console";
import { openSecrets } from "../sources/rest/secrets";

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
    const manifest = await executeRun({ sources: [source], entities: options.entities, from: options.from, to: options.to, options: options });
    shown.stop();
    printSummary(manifest, path.resolve(options.out), shown.summaryStream);
    return exitCodeOf(manifest.status);
  } finally {
    shown.stop();
    stopHandling();
  }
}
