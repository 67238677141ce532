import { requireForSerialization } from "apache-beam/serialization";
import type { SinkTarget } from "../model/backends";
import { openLake } from "../sinks/open-backends";

export function nameMappingPath(runId: string, entity: string): string {
  return `runs/${runId}/names/${entity}.json`;
}

/**
 * Merges a bundle's original -> column names into the run's mapping file for the entity; the
 * manifest publishes it. (On the direct runner an entity is one bundle; on Dataflow concurrent
 * bundles could each write, and the union of what they saw is what matters.)
 */
export async function recordNameMapping(target: SinkTarget, runId: string, entity: string, mapping: Record<string, string>): Promise<void> {
  const lake = await openLake(target);
  const file = nameMappingPath(runId, entity);
  const previous = await lake.readText(file);
  const merged = Object.assign(previous ? (JSON.parse(previous) as Record<string, string>) : {}, mapping);
  await lake.writeText(file, JSON.stringify(merged, Object.keys(merged).sort(), 2) + "\n");
}

// DoFns call this through the module (it opens backends, whose classes cannot be serialized).
requireForSerialization("api2lake/dist/pipeline/name-mapping", { recordNameMapping: recordNameMapping, nameMappingPath: nameMappingPath });
