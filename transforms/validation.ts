import { requireForSerialization } from "apache-beam/serialization";
import type { Row, Outcome } from "../model/row";
import { ok, failed } from "../model/row";
import type { FieldConfig } from "../model/source-config";
import { withName, type PCollection } from "apache-beam";
import { routeTagged, tag, type Routed, type Tagged } from "./dead-letters";

export interface ValidateOptions {
  /** Largest accepted record, in UTF-8 bytes of its JSON text. */
  maxRecordBytes: number;
  /** The record's size when the caller already knows it (e.g. the length of the fetched text). */
  bytes?: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Parses one record's JSON text: `malformed JSON: <parser message>`, or `not a JSON object`. */
export function parseRecord(text: string): Outcome<Row> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return failed(`malformed JSON: ${(e as Error).message}`);
  }
  return isPlainObject(value) ? ok(value) : failed("not a JSON object");
}

/** How a value is shown in a reason: its type and a short rendering. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+(?:\.0*)?$/;

/**
 * Checks one declared field and returns its (possibly coerced) value or the reason it fails.
 *
 * Allowed coercions, and only these:
 * - `number`: a decimal string (`"12.50"`, `" 3 "`, `"1e3"`, after trimming) -> number.
 *   Not `""`, `"NaN"`, `"Infinity"`, `"1,5"` or hex.
 * - `integer`: an integral number, or a string of digits (optionally `.0`) within the safe
 *   integer range -> number.
 * - `string`: a number or boolean -> its text (APIs often send numeric ids).
 * - `boolean`: `"true"`/`"false"` (any case), `"1"`/`"0"`, and the numbers 1/0.
 * - `date`/`timestamp`: a string or number; parsing is the dates step's job.
 * - `json`: anything.
 * `null`, `undefined` and (for non-string types) `""` count as missing.
 */
export function checkField(name: string, value: unknown, field: FieldConfig): Outcome<unknown> {
  const missing = value === undefined || value === null || (value === "" && field.type !== "string");
  if (missing) return field.required ? failed(`missing required field "${name}"`) : ok(value === "" ? null : value ?? null);
  const wrong = (): Outcome<unknown> => failed(`field "${name}": expected ${field.type}, got ${describe(value)}`);
  let v: unknown = value;
  switch (field.type) {
    case "number":
      if (typeof v === "string" && DECIMAL.test(v.trim())) v = Number(v.trim());
      if (typeof v !== "number" || !Number.isFinite(v)) return wrong();
      break;
    case "integer":
      if (typeof v === "string" && INTEGER.test(v.trim())) v = Number(v.trim());
      if (typeof v !== "number" || !Number.isSafeInteger(v)) return wrong();
      break;
    case "string":
      if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") v = String(v);
      if (typeof v !== "string") return wrong();
      if (field.maxLength !== undefined && v.length > field.maxLength)
        return failed(`field "${name}": ${v.length} characters, over the maximum length ${field.maxLength}`);
      return ok(v);
    case "boolean":
      if (typeof v === "string") {
        const t = v.trim().toLowerCase();
        v = t === "true" || t === "1" ? true : t === "false" || t === "0" ? false : v;
      } else if (v === 1 || v === 0) v = v === 1;
      return typeof v === "boolean" ? ok(v) : wrong();
    case "date":
    case "timestamp":
      return typeof v === "string" || typeof v === "number" ? ok(v) : wrong();
    case "json":
      return ok(v);
  }
  const n = v as number;
  if (field.min !== undefined && n < field.min) return failed(`field "${name}": ${n} is below minimum ${field.min}`);
  if (field.max !== undefined && n > field.max) return failed(`field "${name}": ${n} is above maximum ${field.max}`);
  return ok(n);
}

/**
 * An upper bound of a flat record's JSON size in UTF-8 bytes, without serializing it: every
 * UTF-16 unit of a key or string costs at most 6 bytes (`\u001f`), a scalar at most 32.
 * `Infinity` when a member is an object or array (then the exact size is computed).
 */
function jsonBytesBound(row: Record<string, unknown>): number {
  let bound = 2;
  for (const key in row) {
    const v = row[key];
    bound += key.length * 6 + 4;
    if (typeof v === "string") bound += v.length * 6 + 2;
    else if (v !== null && typeof v === "object") return Infinity;
    else bound += 32;
  }
  return bound;
}

/** UTF-8 length of a string (lone surrogates count 3, as `Buffer.byteLength` does). */
function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/**
 * Validates a record against its declared fields. Every failing field is reported (joined with
 * `; `, in declaration order); a valid record comes back as a copy with coerced values.
 * Undeclared fields pass through untouched.
 *
 * @example validateRow({ quantity: "many" }, { quantity: { type: "integer", required: true } }, { maxRecordBytes: 1e6 })
 *   // { ok: false, reason: 'field "quantity": expected integer, got string "many"' }
 */
export function validateRow(row: unknown, fields: Record<string, FieldConfig>, options: ValidateOptions): Outcome<Row> {
  if (!isPlainObject(row)) return failed("not a JSON object");
  const bytes = options.bytes ?? (jsonBytesBound(row) <= options.maxRecordBytes ? 0 : utf8Bytes(JSON.stringify(row)));
  if (bytes > options.maxRecordBytes) return failed(`record is ${bytes} bytes, over the ${options.maxRecordBytes}-byte limit`);
  let out: Row | undefined;
  let reasons: string[] | undefined;
  for (const name of Object.keys(fields)) {
    const checked = checkField(name, row[name], fields[name]);
    if (!checked.ok) (reasons ??= []).push(checked.reason);
    else if (checked.value !== row[name]) (out ??= Object.assign({}, row))[name] = checked.value;
  }
  if (reasons) return failed(reasons.join("; "));
  return ok(out ?? row);
}

// ---- Beam ----

/** Validates rows against the declared fields; failures carry stage `validate` and the reason. */
export function validateRecords(config: { fields: Record<string, FieldConfig>; maxRecordBytes: number; label?: string }) {
  const fields = JSON.parse(JSON.stringify(config.fields)) as Record<string, FieldConfig>;
  const maxRecordBytes = config.maxRecordBytes;
  return withName(config.label ?? "ValidateRecords", function validateRecords(input: PCollection<Row>): Routed<Row> {
    return input
      .map(function checkRecord(row: Row): Tagged<Row> { return tag(validateRow(row, fields, { maxRecordBytes: maxRecordBytes }), "validate", row); })
      .apply(routeTagged<Row>("RouteValidated"));
  });
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/validation", { parseRecord: parseRecord, describe: describe, checkField: checkField, validateRow: validateRow, jsonBytesBound: jsonBytesBound, utf8Bytes: utf8Bytes });
