import { resolveConfigPath } from "./presets";
import { loadSourceConfig } from "../sources/rest/config-loader";
import type { SourceConfig } from "../model/source-config";
import { UsageError } from "./usage-error";

// Its own module so that `check` and `schema` do not load the run's graph and Beam through run-command.ts.

/** A config that does not load is the user's to fix: a usage error naming the file and key. */
export function loadConfig(config: string): SourceConfig {
  try {
    return loadSourceConfig(resolveConfigPath(config));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
