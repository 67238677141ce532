import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";

export interface FlattenOptions {
  /**
   * Array fields to explode into child rows instead of keeping them as JSON text. Named by their
   * dotted path (`vehicle.tags`) or their flattened column name (`vehicle_tags`).
   */
  explode?: readonly string[];
  /** The parent's primary-key values, copied into every child row (e.g. `{ id: 7 }`). */
  parentKey?: Row;
}

export interface Flattened {
  row: Row;
  /** Child rows per exploded column name (`vehicle_tags`), each with the parent key and `_index`. */
  children: Record<string, Row[]>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Nested objects become underscore-joined columns (`{ vehicle: { id: 1 } }` -> `vehicle_id`),
 * arrays stay as JSON text unless exploded, an empty object becomes `null`. A joined name that
 * is already taken gets `_2`, `_3`, ... (nothing is overwritten). Names are not sanitized here.
 *
 * @example flattenRecord({ id: 1, vehicle: { id: "v" }, tags: ["a"] }, { explode: ["tags"], parentKey: { id: 1 } })
 *   // { row: { id: 1, vehicle_id: "v" }, children: { tags: [{ id: 1, _index: 0, value: "a" }] } }
 */
export function flattenRecord(obj: Record<string, unknown>, options: FlattenOptions = {}): Flattened {
  const explode = new Set(options.explode ?? []);
  const row: Row = {};
  const children: Record<string, Row[]> = {};
  walk(obj, "", "", row, (column, path, items) => {
    if (!explode.has(column) && !explode.has(path)) return false;
    children[column] = items.map((item, index) => childRow(item, index, options.parentKey ?? {}));
    return true;
  });
  return { row: row, children: children };
}

function childRow(item: unknown, index: number, parentKey: Row): Row {
  const child: Row = Object.assign({}, parentKey);
  put(child, "_index", index);
  if (isPlainObject(item)) walk(item, "", "", child, () => false);
  else put(child, "value", Array.isArray(item) ? JSON.stringify(item) : item ?? null);
  return child;
}

function walk(
  obj: Record<string, unknown>,
  prefix: string,
  pathPrefix: string,
  out: Row,
  onArray: (column: string, path: string, items: unknown[]) => boolean,
): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const column = prefix ? prefix + "_" + key : key;
    const path = pathPrefix ? pathPrefix + "." + key : key;
    if (value === undefined) continue;
    if (isPlainObject(value)) {
      if (Object.keys(value).length === 0) put(out, column, null);
      else walk(value, column, path, out, onArray);
    } else if (Array.isArray(value)) {
      if (!onArray(column, path, value)) put(out, column, JSON.stringify(value));
    } else put(out, column, value);
  }
}

function put(out: Row, column: string, value: unknown): void {
  let name = column;
  for (let n = 2; Object.prototype.hasOwnProperty.call(out, name); n++) name = `${column}_${n}`;
  out[name] = value;
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/flatten", { flattenRecord: flattenRecord, childRow: childRow, walk: walk, put: put });
