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
  walkPaths(record, "", "", "", new Set(explode), new Set(skip), out);
  return out;
}

/** `\` and `.` inside a key are escaped with `\`, so a path names one place in the record. */
export function escapeKey(key: string): string {
  return key.replace(/[\\.]/g, (c) => "\\" + c);
}

/** `path` is escaped, `dotted` and `joined` are the raw keys joined with `.` and `_` (how `explode` names arrays). */
function walkPaths(
  obj: Record<string, unknown>,
  path: string,
  dotted: string,
  joined: string,
  explode: Set<string>,
  skip: Set<string>,
  out: [string, unknown][],
): void {
  for (const key of Object.keys(obj)) {
    if (path === "" && skip.has(key)) continue;
    const value = obj[key];
    if (value === undefined) continue;
    const p = path ? path + "." + escapeKey(key) : escapeKey(key);
    const d = dotted ? dotted + "." + key : key;
    const j = joined ? joined + "_" + key : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      if (Object.keys(value).length === 0) out.push([p, null]);
      else walkPaths(value as Record<string, unknown>, p, d, j, explode, skip, out);
    } else if (Array.isArray(value) && (explode.has(d) || explode.has(j))) {
      continue;
    } else out.push([p, value]);
  }
}

requireForSerialization("api2lake/dist/transforms/source-paths", {
  sourcePaths: sourcePaths, escapeKey: escapeKey, walkPaths: walkPaths,
});
