import { requireForSerialization } from "apache-beam/serialization";
import type { Row, Outcome } from "../model/row";
import { ok, failed } from "../model/row";
import type { FieldConfig } from "../model/source-config";

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
const INTEGER = /^([+-]?\d+)(?:\.0*)?$/;
const INT64_MIN = BigInt("-9223372036854775808");
const INT64_MAX = BigInt("9223372036854775807");
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Value notes of one record, by manifest counter name: `sentinel_nulled` (a declared null value
 * became null), `invalid_nulled` (a bad value became null under `onInvalid: null`),
 * `precision_lost` (a `number` field got a decimal that no double holds exactly).
 */
export type ValueCounts = Record<string, number>;

const bump = (counts: ValueCounts | undefined, name: string): void => {
  if (counts) counts[name] = (counts[name] ?? 0) + 1;
};

/** True when `value` is one of the declared null values: equal as sent, or a numeric text of a declared number. */
function isNullValue(value: unknown, nullValues: readonly (number | string)[]): boolean {
  for (const s of nullValues) {
    if (value === s) return true;
    if (typeof value === "string") {
      const t = value.trim();
      if (typeof s === "string" ? t === s.trim() : DECIMAL.test(t) && Number(t) === s) return true;
    }
  }
  return false;
}

/** `{ sign, digits, exponent }` of a decimal text with digits stripped of leading and trailing zeros. */
function decimalParts(text: string): string {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (m === null) return text;
  let digits = (m[2] + m[3]).replace(/^0+/, "");
  let exponent = Number(m[4] ?? 0) - m[3].length;
  if (digits === "") return "0";
  const trailing = /0+$/.exec(digits);
  if (trailing) {
    digits = digits.slice(0, trailing.index);
    exponent += trailing[0].length;
  }
  return `${m[1] === "-" ? "-" : ""}${digits}e${exponent}`;
}

/**
 * True when the double `n` reads back as the decimal `text` (its shortest round-trip form,
 * ECMA-262 Number::toString, equals the text numerically): `"0.1"` -> yes, `"9007199254740993"` -> no.
 */
export function decimalKeptExactly(text: string, n: number): boolean {
  return decimalParts(text) === decimalParts(String(n));
}

/**
 * An integer value in its landing form: a number within +-(2^53-1), else its exact decimal
 * string (a BIGINT in the warehouse, an int64 cell when served). `undefined`: not an integer;
 * `"range"`: an integer outside int64.
 */
function integerOf(v: unknown): number | string | "range" | undefined {
  let big: bigint;
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return v;
    if (!Number.isInteger(v)) return undefined;
    big = BigInt(v);
  } else if (typeof v === "bigint") big = v;
  else if (typeof v === "string") {
    const m = INTEGER.exec(v.trim());
    if (m === null) return undefined;
    big = BigInt(m[1]);
  } else return undefined;
  if (big < INT64_MIN || big > INT64_MAX) return "range";
  return big >= SAFE_MIN && big <= SAFE_MAX ? Number(big) : big.toString();
}

/**
 * Checks one declared field and returns its (possibly coerced) value or the reason it fails.
 *
 * Allowed coercions, and only these:
 * - `number`: a decimal string (`"12.50"`, `" 3 "`, `"1e3"`, after trimming) -> number.
 *   Not `""`, `"NaN"`, `"Infinity"`, `"1,5"` or hex. A decimal no double holds exactly (e.g.
 *   the big-integer text `"9007199254740993"`, as the lossless JSON reader hands it over) lands
 *   as the nearest double and counts `precision_lost`.
 * - `integer`: an integral number, or a string of digits (optionally `.0`), within int64. Safe
 *   integers (+-(2^53-1)) land as numbers, larger ones as their exact decimal string (no
 *   rounding ever); beyond int64 -> `field "x": <value> is outside the int64 range`.
 * - `string`: a number or boolean -> its text (APIs often send numeric ids).
 * - `boolean`: `"true"`/`"false"` (any case), `"1"`/`"0"`, and the numbers 1/0.
 * - `date`/`timestamp`: a string or number; parsing is the dates step's job.
 * - `json`: anything.
 * `null`, `undefined` and (for non-string types) `""` count as missing; so do the field's
 * declared `nullValues` (counted as `sentinel_nulled`). A wrong-typed or out-of-range value
 * fails, unless the field says `onInvalid: null`: then it becomes null, counted as
 * `invalid_nulled` (a required field is never nulled). Counts go to `counts` when given.
 */
export function checkField(name: string, value: unknown, field: FieldConfig, counts?: ValueCounts): Outcome<unknown> {
  if (field.nullValues !== undefined && field.nullValues.length > 0 && isNullValue(value, field.nullValues)) {
    if (field.required) return failed(`missing required field "${name}": ${describe(value)} is a declared null value`);
    bump(counts, "sentinel_nulled");
    return ok(null);
  }
  const missing = value === undefined || value === null || (value === "" && field.type !== "string");
  if (missing) return field.required ? failed(`missing required field "${name}"`) : ok(value === "" ? null : value ?? null);
  const checked = checkValue(name, value, field, counts);
  if (checked.ok || field.onInvalid !== "null" || field.required) return checked;
  bump(counts, "invalid_nulled");
  return ok(null);
}

/** The type and bounds check of a present value (see `checkField`). */
function checkValue(name: string, value: unknown, field: FieldConfig, counts?: ValueCounts): Outcome<unknown> {
  const wrong = (): Outcome<unknown> => failed(`field "${name}": expected ${field.type}, got ${describe(value)}`);
  let v: unknown = value;
  switch (field.type) {
    case "number":
      if (typeof v === "string" && DECIMAL.test(v.trim())) {
        const text = v.trim();
        v = Number(text);
        if (Number.isFinite(v) && !decimalKeptExactly(text, v as number)) bump(counts, "precision_lost");
      } else if (typeof v === "bigint") {
        const big = v;
        v = Number(big);
        if (Number.isFinite(v) && BigInt(v as number) !== big) bump(counts, "precision_lost");
      }
      if (typeof v !== "number" || !Number.isFinite(v)) return wrong();
      break;
    case "integer": {
      const int = integerOf(v);
      if (int === undefined) return wrong();
      if (int === "range") return failed(`field "${name}": ${String(v).trim()} is outside the int64 range`);
      v = int;
      break;
    }
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
  // Big integers are compared as doubles: bounds are declared as JSON numbers anyway.
  const n = typeof v === "string" ? Number(v) : (v as number);
  if (field.min !== undefined && n < field.min) return failed(`field "${name}": ${String(v)} is below minimum ${field.min}`);
  if (field.max !== undefined && n > field.max) return failed(`field "${name}": ${String(v)} is above maximum ${field.max}`);
  return ok(v);
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
 * Undeclared fields pass through untouched. The value notes of a valid record (see
 * `checkField`) are added to `counts`; a rejected record adds none.
 *
 * @example validateRow({ quantity: "many" }, { quantity: { type: "integer", required: true } }, { maxRecordBytes: 1e6 })
 *   // { ok: false, reason: 'field "quantity": expected integer, got string "many"' }
 */
export function validateRow(row: unknown, fields: Record<string, FieldConfig>, options: ValidateOptions, counts?: ValueCounts): Outcome<Row> {
  if (!isPlainObject(row)) return failed("not a JSON object");
  const bytes = options.bytes ?? (jsonBytesBound(row) <= options.maxRecordBytes ? 0 : utf8Bytes(JSON.stringify(row)));
  if (bytes > options.maxRecordBytes) return failed(`record is ${bytes} bytes, over the ${options.maxRecordBytes}-byte limit`);
  let out: Row | undefined;
  let reasons: string[] | undefined;
  const notes: ValueCounts | undefined = counts ? {} : undefined;
  for (const name of Object.keys(fields)) {
    const checked = checkField(name, row[name], fields[name], notes);
    if (!checked.ok) (reasons ??= []).push(checked.reason);
    else if (checked.value !== row[name]) (out ??= Object.assign({}, row))[name] = checked.value;
  }
  if (reasons) return failed(reasons.join("; "));
  if (counts && notes) for (const k in notes) counts[k] = (counts[k] ?? 0) + notes[k];
  return ok(out ?? row);
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/validation", { parseRecord: parseRecord, describe: describe, checkField: checkField, checkValue: checkValue, integerOf: integerOf, isNullValue: isNullValue, decimalParts: decimalParts, decimalKeptExactly: decimalKeptExactly, bump: bump, validateRow: validateRow, jsonBytesBound: jsonBytesBound, utf8Bytes: utf8Bytes });
