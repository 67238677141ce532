import { parentPlaceholders, type EntityConfig, type SourceConfig } from "../../model/source-config";
import type { Row } from "../../model/row";
import { getPath } from "./json-path";

/**
 * Parent -> child endpoints: an entity with `parent: <entity>` gets one request series per parent
 * record, whose fields fill `{parent.<field>}` in the child's path, params and body, and whose
 * `include`d fields land as `_parent_<field>` columns. Pure functions over plain config data.
 */

/** The values of one parent record that a child series uses, by dotted field path. */
export interface ParentRef {
  entity: string;
  /** The parent's primary key as text: the value itself for one key field, else a JSON array (state key). */
  key: string;
  values: Record<string, unknown>;
}

/** Entities of the selection in parent-first levels: level 0 has no parent, level n's parents are in level n-1. */
export function entityLevels(source: SourceConfig, names: readonly string[]): string[][] {
  const levels: string[][] = [];
  const depth = (name: string): number => {
    let d = 0;
    for (let up = source.entities[name].parent; up !== undefined; up = source.entities[up].parent) d++;
    return d;
  };
  for (const name of names) {
    const d = depth(name);
    while (levels.length <= d) levels.push([]);
    levels[d].push(name);
  }
  return levels;
}

/** A selection that holds a child must hold its parent (children are read from the parent's records). */
export function missingParents(source: SourceConfig, names: readonly string[]): string[] {
  return names.filter((n) => {
    const parent = source.entities[n].parent;
    return parent !== undefined && !names.includes(parent);
  }).map((n) => `entity ${n} needs its parent ${source.entities[n].parent} in the run`);
}

/** Column name of an included parent field: `parent.name` -> `_parent_name`, `parent.meta.id` -> `_parent_meta_id`. */
export function includedColumn(include: string): string {
  return "_parent_" + include.slice("parent.".length).replace(/\./g, "_");
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean";
}

/**
 * What a child series needs from one parent record: its key (the parent's primary key fields) and the
 * fields the child's templates and `include` name. A missing or non-scalar value is an error naming the
 * field (the caller dead-letters it: the child series is not requested).
 */
export function parentRef(
  parentName: string, parent: EntityConfig, child: EntityConfig, record: Row,
): { ok: true; ref: ParentRef } | { ok: false; reason: string } {
  const keyValues: unknown[] = [];
  for (const field of parent.primaryKey) {
    const value = getPath(record, field);
    if (!isScalar(value)) return { ok: false, reason: `parent ${parentName} record has no scalar primary key field ${field}` };
    keyValues.push(value);
  }
  const values: Record<string, unknown> = {};
  for (const field of parentPlaceholders(child)) {
    const value = getPath(record, field);
    if (!isScalar(value)) return { ok: false, reason: `parent ${parentName} record has no scalar value for {parent.${field}}` };
    values[field] = value;
  }
  for (const include of child.include) {
    const field = include.slice("parent.".length);
    const value = getPath(record, field);
    values[field] = value === undefined ? null : value;
  }
  const key = keyValues.length === 1 ? String(keyValues[0]) : JSON.stringify(keyValues);
  return { ok: true, ref: { entity: parentName, key: key, values: values } };
}

/** `{parent.<field>}` placeholders of a text replaced by the parent's values (`encode` for path segments). */
export function fillParentText(text: string, values: Record<string, unknown>, encode: boolean): string {
  return text.replace(/\{parent\.([^}]+)\}/g, (_whole: string, field: string) => {
    const value = String(values[field]);
    return encode ? encodeURIComponent(value) : value;
  });
}

/** A body template with parent values: a string that is exactly one placeholder takes the value with its JSON type. */
export function fillParentBody(template: unknown, values: Record<string, unknown>): unknown {
  if (typeof template === "string") {
    const whole = /^\{parent\.([^}]+)\}$/.exec(template);
    return whole ? values[whole[1]] : fillParentText(template, values, false);
  }
  if (Array.isArray(template)) return template.map((v) => fillParentBody(v, values));
  if (template !== null && typeof template === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = fillParentBody(v, values);
    return out;
  }
  return template;
}

/** The child entity with its path, params and body filled from the parent (the config object is not changed). */
export function entityForParent(entity: EntityConfig, values: Record<string, unknown>): EntityConfig {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(entity.params)) params[k] = fillParentText(v, values, false);
  const filled: EntityConfig = { ...entity, path: fillParentText(entity.path, values, true), params: params };
  if (entity.body) filled.body = fillParentBody(entity.body, values) as Record<string, unknown>;
  return filled;
}

/** The `_parent_<field>` columns a child record gets. */
export function includedColumns(entity: EntityConfig, values: Record<string, unknown>): Row {
  const out: Row = {};
  for (const include of entity.include) {
    const value = values[include.slice("parent.".length)];
    out[includedColumn(include)] = (value === undefined ? null : value) as Row[string];
  }
  return out;
}
