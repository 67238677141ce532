import { requireForSerialization } from "apache-beam/serialization";
import type { SinkTarget } from "../model/backends";
import { openLake } from "../sinks/open-backends";

export function nameMappingPath(runId: string, entity: string): string {
  return `runs/${runId}/names/${entity}.json`;
}

/**
 * Writes the run's original -> column names of an entity (the graph gathers them into one
 * element first, so there is one writer); the manifest publishes them.
 */
export async function recordNameMapping(target: SinkTarget, runId: string, entity: string, mapping: Record<string, string>): Promise<void> {
  const lake = await openLake(target);
  await lake.writeText(nameMappingPath(runId, entity), JSON.stringify(mapping, Object.keys(mapping).sort(), 2) + "\n");
}

// DoFns call this through the module (it opens backends, whose classes cannot be serialized).
requireForSerialization("api2lake/dist/pipeline/name-mapping", { recordNameMapping: recordNameMapping, nameMappingPath: nameMappingPath });
