import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import { canonicalJson } from "./lineage";

export interface DedupeConfig {
  primaryKey: readonly string[];
  /** Among rows with one key, the greatest value of this field wins. */
  orderBy?: string;
}

/**
 * The group key of a row: its primary-key values as JSON (missing values as `null`). Values are
 * keyed as they are, never through a double: ids beyond 2^53 arrive as exact decimal strings
 * (the lossless JSON reader, or a declared `integer` field), so `"9007199254740993"` and
 * `"9007199254740992"` are two keys, and a row is a duplicate only when its key is equal as sent.
 */
export function keyOf(row: Row, primaryKey: readonly string[]): string {
  if (primaryKey.length === 1) {
    const v = row[primaryKey[0]];
    // A text or number key (the usual id) is quoted as JSON.stringify would, without the array.
    if (typeof v === "string" || typeof v === "number") return "[" + canonicalJson(v) + "]";
    return JSON.stringify([v === undefined ? null : v]);
  }
  return JSON.stringify(primaryKey.map((k) => (row[k] === undefined ? null : row[k])));
}

const ISO_PREFIX = /^\d{4}-\d\d-\d\d/;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const BIG_INTEGER = /^[+-]?\d{16,}$/;

/**
 * A total order on orderBy values, so the winner does not depend on input order:
 * missing < booleans < numbers (and numeric strings; integer strings beyond 2^53 compared
 * exactly, as BigInt) < ISO dates/timestamps (compared as instants; a zone-less one read as
 * UTC) < other strings (code-unit order) < objects (canonical JSON).
 */
function rankOf(v: unknown): [number, number | bigint | string] {
  if (v === null || v === undefined) return [0, 0];
  if (typeof v === "boolean") return [1, v ? 1 : 0];
  if (typeof v === "number") return Number.isNaN(v) ? [0, 0] : [2, v];
  if (typeof v === "string") {
    const t = v.trim();
    if (BIG_INTEGER.test(t) && !Number.isSafeInteger(Number(t))) return [2, BigInt(t)];
    if (NUMERIC.test(t)) return [2, Number(t)];
    if (ISO_PREFIX.test(t)) {
      const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t.slice(10)) || t.length === 10 ? t : t + "Z");
      if (!Number.isNaN(ms)) return [3, ms];
    }
    return [4, v];
  }
  return [5, canonicalJson(v)];
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra[0] !== rb[0]) return ra[0] - rb[0];
  return ra[1] < rb[1] ? -1 : ra[1] > rb[1] ? 1 : 0;
}

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/** > 0 when `a` should win over `b`: orderBy, then `_ingested_at`, then `_payload_hash`, then the whole row. */
export function compareLatest(a: Row, b: Row, orderBy?: string): number {
  if (orderBy !== undefined) {
    const c = compareValues(a[orderBy], b[orderBy]);
    if (c !== 0) return c;
  }
  const ia = str(a._ingested_at), ib = str(b._ingested_at);
  if (ia !== ib) return ia < ib ? -1 : 1;
  const ha = str(a._payload_hash), hb = str(b._payload_hash);
  if (ha !== hb) return ha < hb ? -1 : 1;
  const ja = canonicalJson(a), jb = canonicalJson(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/**
 * Keeps one row per primary key: the one with the greatest `orderBy` value, ties broken by
 * `_ingested_at` then `_payload_hash` (greatest wins). Kept rows come in order of their key's
 * first appearance. `kept.length + duplicates === rows.length`.
 */
export function pickLatest(rows: readonly Row[], config: DedupeConfig): { kept: Row[]; duplicates: number } {
  const best = new Map<string, Row>();
  for (const row of rows) {
    const key = keyOf(row, config.primaryKey);
    const current = best.get(key);
    if (current === undefined || compareLatest(row, current, config.orderBy) > 0) best.set(key, row);
  }
  return { kept: [...best.values()], duplicates: rows.length - best.size };
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/dedupe", { keyOf: keyOf, compareLatest: compareLatest, pickLatest: pickLatest, rankOf: rankOf, compareValues: compareValues, str: str });
