import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import { LINEAGE_COLUMNS } from "../model/row";
import type { ColumnSpec } from "../model/backends";
import type { EntityConfig, FieldType, SchemaContract } from "../model/source-config";
import {
  coerceValue, fitsType, inferType, isIntegerText, observedType, typeBit, typesOf, INTEGER_TEXT_BIT,
  type EntitySchema, type InferredType, type SchemaCollision, type SchemaColumn,
} from "../model/entity-schema";
import { claim, isReservedName, sanitizeName } from "./names";
import { forEachPath } from "./source-paths";

/**
 * Schema decisions of one run, made once for the whole run (never per record or bundle):
 * `planSchema` extends the persisted schema with the run's observed paths under the entity's
 * contract; `conformRecord` lands one record through that plan.
 */

/** Observed types per source path: OR-ed `typeBit`s (0 = only nulls seen). Merged in any order. */
export type PathObservations = Record<string, number>;

/** The run's schema: what the cleaning step of every record uses, and what is persisted after commit. */
export interface SchemaPlan {
  /** The persisted schema extended by this run (what the commit stage persists, pipeline/commit-stage.ts). */
  schema: EntitySchema;
  /** A persisted schema existed before the run (else this run established it). */
  existed: boolean;
  contract: SchemaContract;
  /** Paths this run added, sorted. */
  added: string[];
  /** Variant columns this run added for type changes (`typeChanges: evolve`). */
  addedVariants: { path: string; type: InferredType; column: string }[];
  /** New paths not added because of `newColumns` (freeze, discard_row, discard_value), sorted. */
  refusedPaths: string[];
}

/** The paths of a record and their types, for the run-wide planning stage. */
export function observeRecord(record: Record<string, unknown>, explode: readonly string[]): PathObservations {
  const out: PathObservations = {};
  forEachPath(record, explode, LINEAGE_COLUMNS, (path, value) => {
    const type = inferType(value);
    const bit = type === "string" && isIntegerText(value) ? INTEGER_TEXT_BIT : type ? typeBit(type) : 0;
    out[path] = (out[path] ?? 0) | bit;
  });
  return out;
}

/** Merges `more` into `into` (returns `into`). */
export function mergeObservations(into: PathObservations, more: PathObservations): PathObservations {
  for (const path in more) into[path] = (into[path] ?? 0) | more[path];
  return into;
}

/** Columns no source path may take: lineage, and the phone outputs `<field>_e164`, `<field>_valid`. */
function reservedColumns(entity: EntityConfig): string[] {
  const phones = Object.keys(entity.phones).flatMap((f) => [`${f}_e164`, `${f}_valid`]);
  return [...LINEAGE_COLUMNS, ...phones];
}

/** Declared column types: `fields`, then `dates` outputs not also in `fields`. */
function declaredTypes(entity: EntityConfig): Record<string, FieldType> {
  const out: Record<string, FieldType> = {};
  for (const name of Object.keys(entity.fields)) out[name] = entity.fields[name].type;
  for (const name of Object.keys(entity.dates)) if (!(name in out)) out[name] = entity.dates[name].output;
  return out;
}

/**
 * Extends `persisted` (undefined before the entity's first run) with the run's observations.
 *
 * Names: new paths are taken in sorted order; a path whose name is already clean (or reserved,
 * `_x`) keeps it when free, the others get `sanitizeName(path)` with the first free `_2`, `_3`;
 * columns of the persisted schema are never renamed; every path that did not get its wanted
 * name is recorded as a collision. Types: declared types win; otherwise the widened type of all
 * the run's values (`widenTypes`); paths seen only with nulls get no column yet.
 * Contract (`entity.schema`), only once a persisted schema exists: `newColumns` other than
 * `evolve` leaves new paths out (the records are refused or the values discarded by
 * `conformRecord`); `typeChanges: evolve` adds a variant column `<column>__v_<type>` per type
 * that does not fit an existing undeclared column.
 *
 * @example planSchema(undefined, { columnName: 64, column_name: 64 }, entity, "r1", ...).schema.columns
 *   // [{ path: "columnName", column: "column_name_2", ... }, { path: "column_name", column: "column_name", ... }]
 */
export function planSchema(
  persisted: EntitySchema | undefined,
  observed: PathObservations,
  entity: EntityConfig,
  ids: { source: string; entity: string; runId: string },
): SchemaPlan {
  const contract = entity.schema;
  const declared = declaredTypes(entity);
  // A column declared since an earlier run inferred it takes the declared type.
  const columns: SchemaColumn[] = (persisted?.columns ?? []).map((c) => (c.column in declared
    ? { ...c, type: declared[c.column], declared: true, variants: { ...c.variants } }
    : { ...c, variants: { ...c.variants } }));
  const collisions: SchemaCollision[] = (persisted?.collisions ?? []).map((c) => ({ ...c }));
  const byPath = new Map(columns.map((c) => [c.path, c] as [string, SchemaColumn]));
  const owner = new Map<string, string>();
  for (const name of reservedColumns(entity)) owner.set(name, name);
  for (const c of columns) {
    owner.set(c.column, c.path);
    for (const t of Object.keys(c.variants) as InferredType[]) owner.set(c.variants[t] as string, c.path);
  }
  const used = new Set(owner.keys());
  const schema: EntitySchema = {
    source: ids.source, entity: ids.entity, columns: columns, collisions: collisions,
    updated_at: persisted?.updated_at ?? null,
  };
  const plan: SchemaPlan = {
    schema: schema, existed: persisted !== undefined, contract: contract, added: [], addedVariants: [], refusedPaths: [],
  };

  const fresh = Object.keys(observed).filter((p) => !byPath.has(p) && observed[p] !== 0).sort();
  if (plan.existed && contract.newColumns !== "evolve") plan.refusedPaths = fresh;
  else {
    const wanted = (p: string) => (isReservedName(p) ? p : sanitizeName(p));
    const named = new Map<string, string>();
    // Already-clean names first, so `column_name` keeps its name whatever other paths want it.
    for (const p of fresh) {
      if ((isReservedName(p) || sanitizeName(p) === p) && !used.has(p)) named.set(p, claim(p, used));
    }
    for (const p of fresh) if (!named.has(p)) named.set(p, claim(wanted(p), used));
    for (const p of fresh) owner.set(named.get(p) as string, p);
    for (const p of fresh) {
      const column = named.get(p) as string;
      const type = declared[column] ?? observedType(observed[p]) ?? "string";
      const entry: SchemaColumn = {
        path: p, column: column, type: type, declared: column in declared, variants: {}, added_by: ids.runId,
      };
      columns.push(entry);
      byPath.set(p, entry);
      if (column !== wanted(p)) {
        collisions.push({ path: p, wanted: wanted(p), column: column, taken_by: owner.get(wanted(p)) ?? wanted(p) });
      }
      plan.added.push(p);
    }
  }
  if (plan.existed && contract.typeChanges === "evolve") {
    for (const p of Object.keys(observed).sort()) {
      const c = byPath.get(p);
      if (!c || c.declared || plan.added.includes(p)) continue;
      for (const t of typesOf(observed[p])) {
        if (fitsType(t, c.type) || c.variants[t]) continue;
        const column = claim(`${c.column}__v_${t}`, used);
        c.variants[t] = column;
        plan.addedVariants.push({ path: p, type: t, column: column });
      }
    }
  }
  columns.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  collisions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return plan;
}

/** What the schema did to one record: values moved to variant columns or discarded (counted). */
export interface Conformed {
  row: Row;
  variantValues: number;
  discardedValues: number;
}

/** A compiled plan: path -> column entry, looked up per value. */
export type Conformer = (record: Row) => { ok: true; value: Conformed } | { ok: false; reason: string };

/**
 * Lands a record (lineage columns included, kept as they are) through the run's plan: each path
 * in its column, scalars coerced to text in string columns. A value whose type does not fit its
 * column is a type change, a path the plan lacks is a new column; both are handled by the
 * contract: `evolve` (variant column / the column the plan added), `discard_value` (value left
 * out, counted), `freeze` and `discard_row` (the record is refused with a reason naming every
 * such field, sorted). Null values of unknown paths are left out (a nullable column holds no
 * more). Declared columns are not checked here: validation does that.
 */
export function compileConformer(plan: SchemaPlan, explode: readonly string[]): Conformer {
  const byPath = new Map(plan.schema.columns.map((c) => [c.path, c] as [string, SchemaColumn]));
  const contract = plan.contract;
  return (record: Row) => {
    const row: Row = {};
    for (const name of LINEAGE_COLUMNS) if (name in record) row[name] = record[name];
    let variantValues = 0;
    let discardedValues = 0;
    let refused: string[] | undefined;
    forEachPath(record, explode, LINEAGE_COLUMNS, (path, value) => {
      const c = byPath.get(path);
      if (c === undefined) {
        if (value === null) return;
        if (plan.existed && contract.newColumns === "discard_value") discardedValues++;
        else {
          (refused ??= []).push(plan.existed && contract.newColumns !== "evolve"
            ? `new field "${path}" (schema.newColumns: ${contract.newColumns})`
            : `field "${path}" is not in the run's schema`);
        }
        return;
      }
      // Declared columns keep the value whatever its type (validation checks it).
      if (c.declared) {
        row[c.column] = value;
        return;
      }
      let type = inferType(value);
      // Integer text in a number column is a number (the path was planned so: `observedType`).
      if (type === "string" && (c.type === "number" || c.type === "integer") && isIntegerText(value)) type = "integer";
      if (type === undefined || fitsType(type, c.type)) {
        row[c.column] = coerceValue(value, c.type);
        return;
      }
      const variant = c.variants[type];
      if (variant !== undefined) {
        row[variant] = value;
        variantValues++;
      } else if (contract.typeChanges === "discard_value") {
        row[c.column] = null;
        discardedValues++;
      } else {
        const shown = JSON.stringify(value).slice(0, 40);
        const rule = `schema.typeChanges: ${contract.typeChanges}`;
        (refused ??= []).push(`field "${path}" (column ${c.column}, ${c.type}) got ${type} ${shown} (${rule})`);
      }
    });
    if (refused) return { ok: false, reason: `schema contract: ${refused.sort().join("; ")}` };
    return { ok: true, value: { row: row, variantValues: variantValues, discardedValues: discardedValues } };
  };
}

/**
 * Column names of the raw `lake.<entity>` table (top-level keys, nested values kept whole): a
 * key that is a path of the plan takes that path's column, so raw and hub columns agree; any
 * other key (an object, a refused or null-only field) takes its sanitized name, with `_2`, `_3`
 * past the plan's columns and the record's other such keys (sorted). Lineage columns stay.
 */
export function compileLakeRenamer(plan: SchemaPlan): (row: Row) => Row {
  const byKey = new Map<string, string>();
  const planned = new Set<string>(LINEAGE_COLUMNS);
  for (const c of plan.schema.columns) {
    planned.add(c.column);
    if (!/(^|[^\\])\./.test(c.path)) byKey.set(c.path.replace(/\\(.)/g, "$1"), c.column);
  }
  return (row: Row) => {
    const out: Row = {};
    let others: string[] | undefined;
    for (const key of Object.keys(row)) {
      const column = (LINEAGE_COLUMNS as readonly string[]).includes(key) ? key : byKey.get(key);
      if (column === undefined) (others ??= []).push(key);
      else out[column] = row[key];
    }
    if (others) {
      const used = new Set(planned);
      for (const key of others.sort()) out[claim(isReservedName(key) ? key : sanitizeName(key), used)] = row[key];
    }
    return out;
  };
}

/** Warehouse columns of the plan's undeclared paths and variants (declared ones are in the table spec already). */
export function schemaColumnSpecs(plan: SchemaPlan): ColumnSpec[] {
  const out: ColumnSpec[] = [];
  for (const c of plan.schema.columns) {
    if (!c.declared) out.push({ name: c.column, type: c.type });
    for (const t of Object.keys(c.variants) as InferredType[]) out.push({ name: c.variants[t] as string, type: t });
  }
  return out;
}

/** Source path -> column, sorted by path (the manifest's `name_mappings`). */
export function pathMapping(schema: EntitySchema): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of schema.columns) out[c.path] = c.column;
  return out;
}

requireForSerialization("api2lake/dist/transforms/schema-contract", {
  observeRecord: observeRecord, mergeObservations: mergeObservations, planSchema: planSchema,
  compileConformer: compileConformer, schemaColumnSpecs: schemaColumnSpecs, pathMapping: pathMapping,
  compileLakeRenamer: compileLakeRenamer, reservedColumns: reservedColumns, declaredTypes: declaredTypes,
});
