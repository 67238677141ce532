import type { ParsedOptions } from "./options";
import { loadConfig } from "./load-config";
import { UsageError } from "./usage-error";
import { selectEntities } from "../sources/rest/entity-selection";
import { parseRangeArgs, type DateRange } from "../sources/rest/slices";
import { checkEntity, formatEntityCheck } from "./first-page-check";

/**
 * The range whose first slice `check` reads for sliced entities: `--from`/`--to` (a lone `--from`
 * is that day), else yesterday (UTC, a whole day) - a range every API has data for more likely
 * than today's, and one no watermark is needed for.
 */
export function checkRange(options: ParsedOptions, now: Date = new Date()): DateRange {
  try {
    if (options.from) return parseRangeArgs(options.from, options.to ?? options.from);
    if (options.to) throw new Error("--to needs --from");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(today - 86_400_000), to: new Date(today) };
}

/**
 * `api2lake check --config <file|preset> [--entities a,b] [--from D [--to D]]`: the first page of each
 * entity, one block per entity (pipeline/first-page-check.ts). Writes nothing - no lake, warehouse,
 * state or manifest. Exit 0 when every entity answered with a page, 1 otherwise, 2 for usage errors.
 */
export async function checkCommand(options: ParsedOptions): Promise<number> {
  if (!options.config) throw new UsageError("--config is required (a YAML file or a preset name)");
  const source = loadConfig(options.config);
  const range = checkRange(options);
  let entities: string[];
  try {
    entities = await selectEntities(Object.keys(source.entities), options.entities ?? "ALL");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let failed = 0;
  const blocks: string[] = [];
  for (const entity of entities) {
    const check = await checkEntity(source, entity, range);
    if (check.error !== undefined || check.status === null) failed++;
    blocks.push(formatEntityCheck(source.name, check));
  }
  console.log(blocks.join("\n\n"));
  console.log("");
  console.log(failed
    ? `check: ${failed} of ${entities.length} entities did not answer`
    : `check: all ${entities.length} entities answered (nothing was written)`);
  return failed ? 1 : 0;
}
