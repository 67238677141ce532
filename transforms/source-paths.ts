import { requireForSerialization } from "apache-beam/serialization";

/**
 * A record's leaf values by source key path (see model/entity-schema.ts for the path syntax):
 * nested objects are walked, an empty object is a null leaf, arrays are leaves (json) unless
 * exploded into a child table, in which case they are left out. Unlike the underscore-joined
 * names of `flattenRecord`, paths never collide, so `{"a": {"b": 1}, "a_b": 2}` gives `a.b` and
 * `a_b` whatever the key order.
 *
 * @param explode exploded arrays, by dotted path (`vehicle.tags`) or joined name (`vehicle_tags`), as in `flattenRecord`
 * @param skip top-level keys left out (e.g. lineage columns)
 * @example sourcePaths({ a: { b: 1 }, "x.y": [2] }) // [["a.b", 1], ["x\\.y", [2]]]
 */
export function sourcePaths(
  record: Record<string, unknown>,
  explode: readonly string[] = [],
  skip: readonly string[] = [],
): [string, unknown][] {
  const out: [string, unknown][] = [];
  forEachPath(record, explode, skip, (path, value) => {
    out.push([path, value]);
  });
  return out;
}

/**
 * `sourcePaths` without the array: calls `visit(path, value)` for each leaf, in the same order.
 * The per-record form for hot loops (schema observation and conforming walk every record).
 */
export function forEachPath(
  record: Record<string, unknown>,
  explode: readonly string[],
  skip: readonly string[],
  visit: (path: string, value: unknown) => void,
): void {
  walkPaths(record, "", "", "", setOf(explode), setOf(skip), visit);
}

/** `\` and `.` inside a key are escaped with `\`, so a path names one place in the record. */
export function escapeKey(key: string): string {
  // Most keys have neither: skip the regex replace.
  if (key.indexOf(".") === -1 && key.indexOf("\\") === -1) return key;
  return key.replace(/[\\.]/g, (c) => "\\" + c);
}

/** Sets of the `explode` / `skip` lists, kept per list (the callers pass the same config arrays for every record). */
const SETS = new WeakMap<readonly string[], Set<string>>();

function setOf(list: readonly string[]): Set<string> {
  let set = SETS.get(list);
  if (set === undefined) {
    set = new Set(list);
    SETS.set(list, set);
  }
  return set;
}

/** `path` is escaped, `dotted` and `joined` are the raw keys joined with `.` and `_` (how `explode` names arrays). */
function walkPaths(
  obj: Record<string, unknown>,
  path: string,
  dotted: string,
  joined: string,
  explode: Set<string>,
  skip: Set<string>,
  visit: (path: string, value: unknown) => void,
): void {
  for (const key of Object.keys(obj)) {
    if (path === "" && skip.has(key)) continue;
    const value = obj[key];
    if (value === undefined) continue;
    const p = path ? path + "." + escapeKey(key) : escapeKey(key);
    if (value === null || typeof value !== "object") {
      visit(p, value);
      continue;
    }
    const d = dotted ? dotted + "." + key : key;
    const j = joined ? joined + "_" + key : key;
    if (!Array.isArray(value)) {
      if (Object.keys(value).length === 0) visit(p, null);
      else walkPaths(value as Record<string, unknown>, p, d, j, explode, skip, visit);
    } else if (explode.has(d) || explode.has(j)) {
      continue;
    } else visit(p, value);
  }
}

requireForSerialization("api2lake/dist/transforms/source-paths", {
  sourcePaths: sourcePaths, forEachPath: forEachPath, escapeKey: escapeKey, setOf: setOf, walkPaths: walkPaths,
});
