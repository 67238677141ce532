import type { CommandOptions } from "./options";
import { loadConfig } from "./load-config";
import { sinkTarget } from "./sink-target";
import { readSchema, schemaStatePath } from "./schema-state";
import { formatSchema } from "./schema-report";
import { openLake } from "../sinks/open-backends";
import { UsageError } from "./usage-error";

/**
 * `api2lake schema <entity> --config <c>`: prints the entity's persisted schema (source path ->
 * column, type, declared or inferred, variant columns), its collisions and its contract, read
 * from `state/<source>/<entity>.schema.json` in `--out` (or the bucket with `--sink gcp`).
 * Exit 0 when printed, 1 when the entity has no committed run yet, 2 on a usage error.
 */
export async function schemaCommand(options: CommandOptions<"schema">, positional: string[]): Promise<number> {
  if (positional.length !== 1) {
    throw new UsageError("usage: api2lake schema <entity> --config <file.yaml|preset>");
  }
  const source = loadConfig(options.config);
  const entity = positional[0];
  if (!source.entities[entity]) {
    throw new UsageError(`"${entity}" is not an entity of ${source.name} (entities: ${Object.keys(source.entities).join(", ")})`);
  }
  const lake = await openLake(sinkTarget(options));
  const schema = await readSchema(lake, source.name, entity);
  if (!schema) {
    const where = schemaStatePath(source.name, entity);
    console.log(`${source.name}.${entity}: no schema yet (${where} is written by the entity's first committed run)`);
    return 1;
  }
  const contract = source.entities[entity].schema;
  const title = `${source.name}.${entity}: ${schema.columns.length} paths, updated ${schema.updated_at ?? "never"}; `
    + `contract newColumns: ${contract.newColumns}, typeChanges: ${contract.typeChanges}`;
  const columns = schema.columns.map((c) => ({ ...c, variants: { ...c.variants } as Record<string, string> }));
  console.log(formatSchema(title, { columns: columns, collisions: schema.collisions }));
  return 0;
}
