import * as crypto from "crypto";
import { requireForSerialization } from "apache-beam/serialization";
import type { Lineage, Row } from "../model/row";

requireForSerialization("crypto", crypto);

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, `undefined`
 * members dropped as `JSON.stringify` drops them. Two records that differ only in key order
 * have the same canonical text, hence the same `_payload_hash`.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) parts.push(item === undefined || typeof item === "function" ? "null" : canonicalJson(item));
    return "[" + parts.join(",") + "]";
  }
  const record = value as Record<string, unknown>;
  if (typeof (record as { toJSON?: unknown }).toJSON === "function") return canonicalJson((record as { toJSON: () => unknown }).toJSON());
  const keys = Object.keys(record).sort();
  // Flat records (the common case): the native stringifier with the sorted keys as its key list.
  if (isFlat(record, keys)) return JSON.stringify(record, keys);
  const parts: string[] = [];
  for (const key of keys) {
    const member = record[key];
    if (member === undefined || typeof member === "function") continue;
    parts.push(JSON.stringify(key) + ":" + canonicalJson(member));
  }
  return "{" + parts.join(",") + "}";
}

/** True when no member is an object or function (arrays of scalars are fine): `JSON.stringify(record, keys)` is then canonical. */
function isFlat(record: Record<string, unknown>, keys: string[]): boolean {
  for (const key of keys) {
    const v = record[key];
    if (typeof v === "function" || (v !== null && typeof v === "object" && (!Array.isArray(v) || !v.every((x) => x === null || (typeof x !== "object" && typeof x !== "function" && x !== undefined)))))
      return false;
  }
  return true;
}

/** sha256 (lowercase hex) of the record's canonical JSON. Stable across key order and runs. */
export function payloadHash(raw: unknown): string {
  return crypto.createHash("sha256").update(canonicalJson(raw), "utf8").digest("hex");
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
  const at = new Date(ctx.ingestedAt as string | number);
  if (Number.isNaN(at.getTime())) throw new Error(`lineage: ingestedAt ${JSON.stringify(ctx.ingestedAt)} is not a date`);
  return {
    _ingested_at: at.toISOString(),
    _run_id: ctx.runId,
    _source: ctx.source,
    _page: String(ctx.page),
    _payload_hash: payloadHash(raw),
  };
}

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

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/lineage", { canonicalJson: canonicalJson, isFlat: isFlat, payloadHash: payloadHash, lineageFor: lineageFor, withLineage: withLineage });
