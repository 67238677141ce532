import * as path from "path";
import type { CommandOptions } from "./options";
import { executeRun, printSummary, sinkTarget } from "./run";
import { loadConfig } from "./run-command";
import { UsageError } from "./usage-error";
import { exitCodeOf, handleInterrupts } from "./interrupts";
import { openLake } from "../sinks/open-backends";
import { readReplayRecord, type ReplayRecord } from "../sources/replay-state";

/**
 * `api2lake replay --deadletters <entity> [--run R] --config ...`: pushes the entity's dead
 * letters back through the same graph as a run (sources/dead-letter-lake.ts), once their cause is
 * fixed; a letter lands once however often the command runs (sources/replay-state.ts). No API
 * request is made and no watermark moves.
 */
export async function replayCommand(options: CommandOptions<"replay">): Promise<number> {
  const source = loadConfig(options.config);
  const entity = options.deadletters;
  if (!source.entities[entity])
    throw new UsageError(`--deadletters: ${source.name} has no entity "${entity}" (known: ${Object.keys(source.entities).join(", ")})`);
  const stopHandling = handleInterrupts();
  try {
    const read = options.run === undefined ? { kind: "deadletters" as const } : { kind: "deadletters" as const, run: options.run };
    const manifest = await executeRun({ sources: [source], entities: entity, options: options, read: read });
    printSummary(manifest, path.resolve(options.out));
    const record = await readReplayRecord(await openLake(sinkTarget(options)), manifest.run_id, entity);
    for (const line of replayReport(entity, record, manifest.status === "succeeded")) console.log(line);
    return exitCodeOf(manifest.status);
  } finally {
    stopHandling();
  }
}

/** What the replay took and what it left, with why each left letter cannot be replayed. */
export function replayReport(entity: string, record: ReplayRecord | undefined, committed: boolean): string[] {
  if (!record) return [`${entity}: no dead letters were read (the replay did not get that far)`];
  const lines = [`${entity}: ${record.replayed.length} dead letter(s) replayed${committed ? "" : " - not committed: the next replay takes them again"}` +
    (record.alreadyReplayed ? `, ${record.alreadyReplayed} skipped (replayed by an earlier run)` : "")];
  const why: Record<string, string> = {
    fetch: "a page that kept failing: its records were never fetched; only the API has them (run the entity again for that range)",
    sink: "the payload is a landed row, not an API record: `api2lake run --from-raw` rebuilds the serving rows",
    aggregate: "the payload is a landed row, not an API record: `api2lake run --from-raw` recomputes the data products",
    parse: "not a JSON object: nothing can make it a record",
  };
  for (const stage of Object.keys(record.unreplayable).sort()) {
    lines.push(`  ${record.unreplayable[stage]} ${stage} dead letter(s) cannot be replayed: ${why[stage] ?? "not an API record"}`);
  }
  return lines;
}
