import * as crypto from "crypto";
import { requireForSerialization } from "apache-beam/serialization";
import type { Lineage, Row } from "../model/row";

requireForSerialization("crypto", crypto);

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, `undefined` and
 * function members dropped as `JSON.stringify` drops them (`null` in arrays). Two records that
 * differ only in key order have the same canonical text, hence the same `_payload_hash`.
 *
 * Built in one pass into one string (no per-member arrays); the sorted key order and each
 * key's `"key":` text are remembered per object shape (see `shapeOf`), since a feed's records
 * share a few shapes and sorting them again per record was most of the cost.
 */
export function canonicalJson(value: unknown): string {
  // Text without a character JSON escapes (quote, backslash, controls, surrogates) is itself in quotes.
  if (typeof value === "string") return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (i > 0) out += ",";
      out += item === undefined || typeof item === "function" ? "null" : canonicalJson(item);
    }
    return out + "]";
  }
  const record = value as Record<string, unknown>;
  if (typeof (record as { toJSON?: unknown }).toJSON === "function") return canonicalJson((record as { toJSON: () => unknown }).toJSON());
  const shape = shapeOf(Object.keys(record));
  let out = "{";
  for (let i = 0; i < shape.sorted.length; i++) {
    const member = record[shape.sorted[i]];
    if (member === undefined || typeof member === "function") continue;
    if (out.length > 1) out += ",";
    out += shape.prefixes[i] + canonicalJson(member);
  }
  return out + "}";
}

/** Characters `JSON.stringify` writes escaped (ECMA-262 QuoteJSONString; any surrogate, to stay on the safe side). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** An object shape's keys in canonical (sorted) order, each with its `"key":` text. */
interface Shape {
  /** The keys in insertion order, as `Object.keys` gave them (to tell shapes apart). */
  keys: string[];
  sorted: string[];
  prefixes: string[];
}

/** At most this many shapes are remembered; the memo is emptied when full (feeds have a handful). */
const SHAPE_LIMIT = 1000;
const SHAPES = new Map<string, Shape>();

/**
 * The canonical key order of an object with these keys (in `Object.keys` order), memoized. The
 * memo id joins the keys with NUL; a key may itself hold NUL, so a hit is checked key by key.
 */
function shapeOf(keys: string[]): Shape {
  const id = keys.join("\u0000");
  const known = SHAPES.get(id);
  if (known !== undefined && sameKeys(known.keys, keys)) return known;
  const sorted = keys.slice().sort();
  const shape: Shape = { keys: keys, sorted: sorted, prefixes: sorted.map((k) => JSON.stringify(k) + ":") };
  if (known !== undefined) return shape;
  if (SHAPES.size >= SHAPE_LIMIT) SHAPES.clear();
  SHAPES.set(id, shape);
  return shape;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * sha256 (lowercase hex) of the record's canonical JSON (UTF-8). Stable across key order and
 * runs. Uses Node's one-shot `crypto.hash` (Node >= 20.12, about half the cost of a Hash
 * object per record) where the runtime has it; the digest is the same either way.
 */
export function payloadHash(raw: unknown): string {
  return sha256Hex(canonicalJson(raw));
}

function sha256Hex(text: string): string {
  const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;
  if (typeof oneShot === "function") return oneShot("sha256", text, "hex");
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

export interface LineageContext {
  runId: string;
  /** The endpoint path, no query secrets, e.g. `/commerce/customers`. */
  source: string;
  /** Page number, offset or cursor that produced the record. */
  page: string | number;
  /** When the record was fetched; written as UTC ISO-8601 with milliseconds. */
  ingestedAt: Date | string | number;
}

/** The five lineage columns for any raw value (objects or not, so a bad record can be traced too). */
export function lineageFor(raw: unknown, ctx: LineageContext): Lineage {
  const ingestedAt = ingestedIso(ctx.ingestedAt);
  return lineageOf(ctx, ingestedAt, payloadHash(raw));
}

function lineageOf(ctx: LineageContext, ingestedAt: string, hash: string): Lineage {
  return { _ingested_at: ingestedAt, _run_id: ctx.runId, _source: ctx.source, _page: String(ctx.page), _payload_hash: hash };
}

/**
 * `ingestedAt` as UTC ISO-8601 with milliseconds; throws when it is not a date. Every record of
 * a page carries the same fetch time, so the last string or number converted is remembered.
 */
function ingestedIso(ingestedAt: Date | string | number): string {
  if (lastIngested !== undefined && ingestedAt === lastIngested.input) return lastIngested.iso;
  const at = new Date(ingestedAt as string | number);
  if (Number.isNaN(at.getTime())) throw new Error(`lineage: ingestedAt ${JSON.stringify(ingestedAt)} is not a date`);
  const iso = at.toISOString();
  // A Date may change after the call: only immutable inputs are remembered.
  if (typeof ingestedAt !== "object") lastIngested = { input: ingestedAt, iso: iso };
  return iso;
}

let lastIngested: { input: string | number; iso: string } | undefined;

/**
 * The raw record plus the lineage columns (which win over same-named raw fields; the hash is of
 * the raw record as received).
 *
 * @example withLineage({ id: 1 }, { runId: "r1", source: "/customers", page: 2, ingestedAt: "2026-01-01T00:00:00Z" })
 *   // { id: 1, _ingested_at: "2026-01-01T00:00:00.000Z", _run_id: "r1", _source: "/customers", _page: "2", _payload_hash: "…" }
 */
export function withLineage(raw: Row, ctx: LineageContext): Row {
  return Object.assign({}, raw, lineageFor(raw, ctx));
}

/**
 * `withLineage`, and the UTF-8 byte length of the record's JSON text (`bytes`). The canonical
 * text hashed for `_payload_hash` holds the same members and values as `JSON.stringify(raw)`,
 * only in another key order, so for a JSON value (what the readers produce) its length is the
 * same: the record is serialized once instead of twice. Throws as `withLineage` does.
 */
export function withLineageSized(raw: Row, ctx: LineageContext): { row: Row; bytes: number } {
  const ingestedAt = ingestedIso(ctx.ingestedAt);
  const text = canonicalJson(raw);
  return { row: Object.assign({}, raw, lineageOf(ctx, ingestedAt, sha256Hex(text))), bytes: Buffer.byteLength(text, "utf8") };
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/lineage", { canonicalJson: canonicalJson, shapeOf: shapeOf, sameKeys: sameKeys, payloadHash: payloadHash, sha256Hex: sha256Hex, lineageFor: lineageFor, lineageOf: lineageOf, withLineageSized: withLineageSized, ingestedIso: ingestedIso, withLineage: withLineage });
