import * as path from "path";
import type { ParsedOptions } from "./options";
import { executeRun, printSummary } from "./run";
import { resolveConfigPath } from "./presets";
import { loadSourceConfig } from "../sources/rest/config-loader";

export async function runCommand(options: ParsedOptions): Promise<number> {
  if (!options.config) {
    console.error("api2lake run: --config is required (a YAML file or a preset name)");
    return 2;
  }
  const source = loadSourceConfig(resolveConfigPath(options.config));
  const manifest = await executeRun({ sources: [source], entities: options.entities ?? "ALL", from: options.from, to: options.to, options: options });
  printSummary(manifest, path.resolve(options.out ?? "./out"));
  return manifest.status === "succeeded" ? 0 : 1;
}
