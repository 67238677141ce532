import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";

/**
 * Warehouse-safe column name: camelCase split into words, accents stripped, lowercased, every
 * run of other characters turned into one `_`, underscores trimmed, a leading digit prefixed
 * with `_`, and `_` for a name with nothing left. Idempotent.
 *
 * @example sanitizeName("PM2.5") // "pm2_5"
 * @example sanitizeName("updatedAtTime") // "updated_at_time"
 * @example sanitizeName("T. int.") // "t_int"
 */
export function sanitizeName(name: string): string {
  const known = SANITIZED.get(name);
  if (known !== undefined) return known;
  const sanitized = sanitizeUncached(name);
  // Records repeat their key sets: a bounded memo, emptied when full (names are few; junk keys must not grow it).
  if (SANITIZED.size >= MEMO_LIMIT) SANITIZED.clear();
  SANITIZED.set(name, sanitized);
  return sanitized;
}

/** At most this many names are remembered by `sanitizeName` (a profile of 20k records put it at 3% of cleaning). */
const MEMO_LIMIT = 10_000;
const SANITIZED = new Map<string, string>();

function sanitizeUncached(name: string): string {
  const words = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (words === "") return "_";
  return /^[0-9]/.test(words) ? "_" + words : words;
}

/** Names kept verbatim: already-clean names starting with `_` (lineage columns, `_index`). */
export const isReservedName = (name: string): boolean => /^_[a-z0-9_]+$/.test(name);

/**
 * Collision-free, deterministic mapping `original -> sanitized` for a set of names, whatever
 * their order. Names that are already clean (or reserved) keep their name; the others are
 * taken in sorted order and, when their sanitized form is taken, get the first free `_2`, `_3`, ...
 *
 * @example buildNameMapping(["a b", "a_b"]) // { "a_b": "a_b", "a b": "a_b_2" }
 */
export function buildNameMapping(names: readonly string[]): Record<string, string> {
  const unique = [...new Set(names)].sort();
  const mapping: Record<string, string> = {};
  const used = new Set<string>();
  for (const name of unique) {
    if (isReservedName(name) || sanitizeName(name) === name) {
      mapping[name] = name;
      used.add(name);
    }
  }
  for (const name of unique) {
    if (name in mapping) continue;
    mapping[name] = claim(sanitizeName(name), used);
  }
  return mapping;
}

/** `base`, or the first free `base_2`, `base_3`, ... in `used`; marks the result used. */
export function claim(base: string, used: Set<string>): string {
  let candidate = base;
  for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
  used.add(candidate);
  return candidate;
}

/**
 * A copy of `row` with its keys renamed through `mapping`; keys the mapping does not know get
 * their sanitized name (reserved names stay), suffixed if that name is already taken in the row.
 */
export function renameFields(row: Row, mapping: Record<string, string>): Row {
  const out: Row = {};
  let unknown: string[] | undefined;
  for (const key of Object.keys(row)) {
    const target = Object.prototype.hasOwnProperty.call(mapping, key) ? mapping[key] : undefined;
    if (target === undefined) (unknown ??= []).push(key);
    else out[target] = row[key];
  }
  if (unknown) {
    const used = new Set(Object.keys(out));
    for (const key of unknown.sort()) out[isReservedName(key) && !used.has(key) ? claim(key, used) : claim(sanitizeName(key), used)] = row[key];
  }
  return out;
}

/**
 * Renames a row with a mapping built for its own key set, memoized per key set: rows of one
 * API share a few key sets, so the mapping is computed a handful of times per run.
 * `onNewMapping` hears each mapping when it is first built (e.g. to publish it).
 */
export function createRenamer(onNewMapping?: (mapping: Record<string, string>) => void): (row: Row) => Row {
  const cache = new Map<string, Record<string, string>>();
  return (row: Row) => {
    const keys = Object.keys(row);
    const signature = keys.join("\u0000");
    let mapping = cache.get(signature);
    if (mapping === undefined) {
      mapping = buildNameMapping(keys);
      if (cache.size > 10_000) cache.clear();
      cache.set(signature, mapping);
      if (onNewMapping) onNewMapping(mapping);
    }
    return renameFields(row, mapping);
  };
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/names", { sanitizeName: sanitizeName, sanitizeUncached: sanitizeUncached, isReservedName: isReservedName, buildNameMapping: buildNameMapping, renameFields: renameFields, createRenamer: createRenamer, claim: claim });
