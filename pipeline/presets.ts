import * as fs from "fs";
import * as path from "path";
import type { SourceConfig } from "../model/source-config";
import { loadSourceConfig } from "../sources/rest/config-loader";

/** The built-in presets, one YAML file each under presets/ (the same format users write). */
export const PRESET_NAMES = ["commerce", "airquality", "jobs", "fleet", "invoices"] as const;

const PRESET_DIR = path.resolve(__dirname, "..", "..", "presets");

export function presetPath(name: string): string {
  return path.join(PRESET_DIR, `${name}.yaml`);
}

/** `--config` accepts a YAML path or a preset name. */
export function resolveConfigPath(config: string): string {
  if (fs.existsSync(config)) return config;
  if ((PRESET_NAMES as readonly string[]).includes(config)) return presetPath(config);
  throw new Error(`--config: no file "${config}" and no preset of that name (presets: ${PRESET_NAMES.join(", ")})`);
}

export function loadPreset(name: string): SourceConfig {
  return loadSourceConfig(presetPath(name));
}
