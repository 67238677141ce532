import { requireForSerialization } from "apache-beam/serialization";
import type { SinkTarget } from "../model/backends";
import type { EntitySchema } from "../model/entity-schema";
import type { TextStore } from "../sources/rest/state";
import type { SchemaPlan } from "../transforms/schema-contract";
import { openLake } from "../sinks/open-backends";

/**
 * Where an entity's schema lives: persisted beside its watermark (`state/<source>/<entity>.json`)
 * through the lake's text files, so it works on a local folder and on GCS alike. A run reads it
 * before building its graph, writes its plan under `runs/<run_id>/` during the graph, and the
 * plan's schema replaces the persisted one only after the run committed.
 */

export function schemaStatePath(source: string, entity: string): string {
  return `state/${source}/${entity}.schema.json`;
}

/** The run's schema plan of an entity (written by the graph, read by the commit stage for the manifest and `persistSchemas`). */
export function runSchemaPath(runId: string, entity: string): string {
  return `runs/${runId}/schema/${entity}.json`;
}

/** The persisted schema, or undefined before the entity's first committed run; a corrupt file is an error naming it. */
export async function readSchema(store: TextStore, source: string, entity: string): Promise<EntitySchema | undefined> {
  const path = schemaStatePath(source, entity);
  const text = await store.readText(path);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as EntitySchema;
    if (!Array.isArray(parsed.columns) || !Array.isArray(parsed.collisions)) throw new Error("no columns or collisions array");
    return parsed;
  } catch (error) {
    throw new Error(`${path}: schema file is not valid (${(error as Error).message})`);
  }
}

export async function writeSchema(store: TextStore, schema: EntitySchema, now: Date = new Date()): Promise<void> {
  const next: EntitySchema = { ...schema, updated_at: now.toISOString() };
  await store.writeText(schemaStatePath(schema.source, schema.entity), JSON.stringify(next, null, 2) + "\n");
}

/** Writes the run's plan of an entity (one writer: the graph plans once per entity). */
export async function recordSchemaPlan(target: SinkTarget, runId: string, entity: string, plan: SchemaPlan): Promise<void> {
  const lake = await openLake(target);
  await lake.writeText(runSchemaPath(runId, entity), JSON.stringify(plan, null, 2) + "\n");
}

export async function readSchemaPlan(store: TextStore, runId: string, entity: string): Promise<SchemaPlan | undefined> {
  const text = await store.readText(runSchemaPath(runId, entity)).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as SchemaPlan);
}

/** After the run committed: each planned entity's extended schema becomes the persisted one. */
export async function persistSchemas(store: TextStore, runId: string, entities: readonly string[]): Promise<void> {
  for (const entity of entities) {
    const plan = await readSchemaPlan(store, runId, entity);
    if (plan) await writeSchema(store, plan.schema);
  }
}

// DoFns call this through the module (it opens backends, whose classes cannot be serialized).
requireForSerialization("api2lake/dist/pipeline/schema-state", {
  recordSchemaPlan: recordSchemaPlan, runSchemaPath: runSchemaPath,
});
