import type { Row, Outcome } from "../model/row";
import type { CellValue, ServingRow } from "../model/backends";
import type { ServingConfig } from "../model/source-config";
import { utcDate, utcIso } from "../model/utc-text";

/**
 * Pure helpers shared by every serving store (embedded LevelDB and Bigtable):
 * row keys from a template, cells from a column map, and the byte encodings of cell values.
 *
 * @example
 * const config = { table: "invoices", rowKey: "{issuer}#{issued_at:yyyyMMdd}#{issued_at:reverse_ts}",
 *   families: { f: { maxVersions: 1 } }, columns: { total: "f:total:float64" } };
 * buildServingRow({ issuer: "acme", issued_at: "2026-01-15T10:00:00Z", total: 12.5 }, config);
 * // { ok: true, value: { key: "acme#20260115#8231...", cells: { f: { total: { value: 12.5, encoding: "float64" } } } } }
 */

export type CellEncoding = "string" | "int64" | "float64" | "bool" | "json";
export const CELL_ENCODINGS: readonly CellEncoding[] = ["string", "int64", "float64", "bool", "json"];

/** Largest reverse timestamp base (13 digits: epoch ms until the year 2286). */
export const REVERSE_TS_BASE = 9_999_999_999_999;
/** Bigtable's row-key limit; the local store enforces the same. */
export const MAX_ROW_KEY_BYTES = 4096;

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value: value });
const failed = <T>(reason: string): Outcome<T> => ({ ok: false, reason: reason });

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Epoch milliseconds of an ISO date (`2026-01-15`, midnight UTC), an ISO timestamp (zone-less
 * means UTC), or a number (epoch ms).
 */
export function toEpochMillis(value: unknown): Outcome<number> {
  if (typeof value === "number") return Number.isFinite(value) ? ok(value) : failed(`not a finite epoch: ${value}`);
  if (typeof value !== "string" || value.length === 0) return failed(`not a date or timestamp: ${JSON.stringify(value)}`);
  const d = DATE_ONLY.exec(value.slice(0, 10));
  if (!d || (value.length > 10 && !/^[T ]\d{2}:\d{2}/.test(value.slice(10)))) return failed(`not an ISO date or timestamp: ${JSON.stringify(value)}`);
  const day = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
  if (Number.isNaN(day) || utcDate(day) !== value.slice(0, 10)) return failed(`invalid date: ${value}`);
  if (value.length === 10) return ok(day);
  const iso = HAS_ZONE.test(value) ? value.replace(" ", "T") : value.replace(" ", "T") + "Z";
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? failed(`invalid timestamp: ${value}`) : ok(ms);
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Where each `formatUtc` token sits in `toISOString` text (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
const ISO_SLICES: Record<string, [number, number]> = {
  yyyy: [0, 4], MM: [5, 7], dd: [8, 10], HH: [11, 13], mm: [14, 16], ss: [17, 19], SSS: [20, 23],
};
const UTC_TOKENS = /yyyy|MM|dd|HH|mm|ss|SSS/g;
/** Patterns split into literal text and ISO slices, memoized (patterns come from config: few). */
const COMPILED_PATTERNS = new Map<string, (string | [number, number])[]>();

function compileUtcPattern(pattern: string): (string | [number, number])[] {
  let parts = COMPILED_PATTERNS.get(pattern);
  if (parts !== undefined) return parts;
  parts = [];
  let at = 0;
  for (const m of pattern.matchAll(UTC_TOKENS)) {
    if ((m.index as number) > at) parts.push(pattern.slice(at, m.index));
    parts.push(ISO_SLICES[m[0]]);
    at = (m.index as number) + m[0].length;
  }
  if (at < pattern.length) parts.push(pattern.slice(at));
  if (COMPILED_PATTERNS.size >= 100) COMPILED_PATTERNS.clear();
  COMPILED_PATTERNS.set(pattern, parts);
  return parts;
}

/**
 * Formats epoch ms in UTC with the tokens `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`. For years
 * 0000-9999 the fields are cut from `utcIso` text (one call per record, partition dates are hot);
 * other years (5 digits, negative) and non-finite ms take the field-by-field path.
 */
export function formatUtc(ms: number, pattern: string): string {
  // Beyond ±8.64e15 ms (ECMA-262 time values) toISOString throws where the field path writes "NaN".
  const iso = Math.abs(ms) <= 8.64e15 ? utcIso(ms) : "";
  if (iso.length === 24) {
    let out = "";
    for (const part of compileUtcPattern(pattern)) out += typeof part === "string" ? part : iso.slice(part[0], part[1]);
    return out;
  }
  return formatUtcFields(ms, pattern);
}

/** `formatUtc` field by field from one `Date` (any year; the oracle of the ISO-slice path in tests). */
export function formatUtcFields(ms: number, pattern: string): string {
  const d = new Date(ms);
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss|SSS/g, (token) => {
    switch (token) {
      case "yyyy": return pad(d.getUTCFullYear(), 4);
      case "MM": return pad(d.getUTCMonth() + 1, 2);
      case "dd": return pad(d.getUTCDate(), 2);
      case "HH": return pad(d.getUTCHours(), 2);
      case "mm": return pad(d.getUTCMinutes(), 2);
      case "ss": return pad(d.getUTCSeconds(), 2);
      default: return pad(d.getUTCMilliseconds(), 3);
    }
  });
}

/** `9999999999999 - epoch ms`, zero-padded to 13 digits: newer timestamps sort first. */
export function reverseTimestamp(ms: number): string {
  return pad(REVERSE_TS_BASE - Math.trunc(ms), 13);
}

const PLACEHOLDER = /\{([^{}:]+)(?::([^{}]+))?\}/g;

/**
 * Expands a row-key template: `{field}`, `{field:yyyyMMdd}` (any of the `formatUtc` tokens),
 * `{field:reverse_ts}`. A missing field or an unparseable date is a failure, never an empty part.
 */
export function renderRowKey(template: string, row: Row): Outcome<string> {
  let error: string | undefined;
  const key = template.replace(PLACEHOLDER, (_all, field: string, format: string | undefined) => {
    if (error !== undefined) return "";
    const value = row[field];
    if (value === undefined || value === null || value === "") {
      error = `row key field "${field}" is missing`;
      return "";
    }
    if (format === undefined) {
      if (typeof value === "object") {
        error = `row key field "${field}" is not a scalar`;
        return "";
      }
      return String(value);
    }
    const ms = toEpochMillis(value);
    if (!ms.ok) {
      error = `row key field "${field}": ${ms.reason}`;
      return "";
    }
    if (format === "reverse_ts") {
      if (ms.value < 0 || ms.value > REVERSE_TS_BASE) {
        error = `row key field "${field}": ${ms.value} is outside the reverse_ts range`;
        return "";
      }
      return reverseTimestamp(ms.value);
    }
    if (!/^(yyyy|MM|dd|HH|mm|ss|SSS|[^A-Za-z])+$/.test(format)) {
      error = `row key field "${field}": unknown format "${format}" (use reverse_ts or tokens yyyy MM dd HH mm ss SSS)`;
      return "";
    }
    return formatUtc(ms.value, format);
  });
  if (error !== undefined) return failed(error);
  if (key.length === 0) return failed("row key is empty");
  if (Buffer.byteLength(key, "utf8") > MAX_ROW_KEY_BYTES) return failed(`row key is longer than ${MAX_ROW_KEY_BYTES} bytes`);
  return ok(key);
}

export interface ColumnMapping {
  field: string;
  family: string;
  qualifier: string;
  encoding: CellEncoding;
}

/** Parses `field -> family:qualifier:encoding`. */
export function parseColumns(columns: Record<string, string>): ColumnMapping[] {
  return Object.keys(columns).map((field) => {
    const parts = columns[field].split(":");
    if (parts.length !== 3 || !(CELL_ENCODINGS as readonly string[]).includes(parts[2]))
      throw new Error(`serving column "${field}": "${columns[field]}" is not family:qualifier:encoding (encoding one of ${CELL_ENCODINGS.join(", ")})`);
    return { field: field, family: parts[0], qualifier: parts[1], encoding: parts[2] as CellEncoding };
  });
}

/**
 * Builds the serving row for a record. Fields that are absent or null produce no cell
 * (wide-column stores have no nulls); a value that cannot take its declared encoding fails
 * the whole row with a reason naming the field. With `orderBy` (the entity's), the row carries
 * `versionMs` (see `versionOf`).
 */
export function buildServingRow(row: Row, config: ServingConfig, orderBy?: string): Outcome<ServingRow> {
  const key = renderRowKey(config.rowKey, row);
  if (!key.ok) return failed(key.reason);
  const version = versionOf(row, orderBy);
  if (!version.ok) return failed(version.reason);
  const cells: ServingRow["cells"] = {};
  for (const col of parseColumns(config.columns)) {
    const value = row[col.field];
    if (value === undefined || value === null) continue;
    const encoded = encodeCell(value as CellValue, col.encoding);
    if (!encoded.ok) return failed(`field "${col.field}" (${col.family}:${col.qualifier}): ${encoded.reason}`);
    const family = cells[col.family] ?? (cells[col.family] = {});
    family[col.qualifier] = { value: decodeCell(encoded.value, col.encoding), encoding: col.encoding };
  }
  return ok(version.value === undefined ? { key: key.value, cells: cells } : { key: key.value, cells: cells, versionMs: version.value });
}

/**
 * The row's version for the serving store, epoch ms: its `orderBy` value as an instant (see
 * `toEpochMillis`; a number is taken as is, so an integer version counter orders too), 0 when the
 * value is null or absent (a null sorts before every value, as in the hub), undefined without
 * `orderBy`. A value that is neither fails with a reason naming the field.
 */
export function versionOf(row: Row, orderBy: string | undefined): Outcome<number | undefined> {
  if (orderBy === undefined) return ok(undefined);
  const value = row[orderBy];
  if (value === undefined || value === null) return ok(0);
  const ms = toEpochMillis(value);
  if (!ms.ok) return failed(`orderBy field "${orderBy}": ${ms.reason}`);
  if (ms.value < 0) return failed(`orderBy field "${orderBy}": ${value} is before 1970, which a cell timestamp cannot hold`);
  return ok(ms.value);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Encodes a cell value to bytes: int64 8-byte big-endian two's complement, float64 IEEE-754
 * big-endian, bool one byte (0/1), string UTF-8, json UTF-8 JSON. Numeric strings are accepted
 * for int64/float64 and `"true"`/`"false"` for bool; anything else that does not fit fails.
 */
export function encodeCell(value: CellValue, encoding: CellEncoding): Outcome<Uint8Array> {
  switch (encoding) {
    case "int64": {
      let big: bigint;
      if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === "string" && /^-?\d{1,19}$/.test(value.trim())) big = BigInt(value.trim());
      else return failed(`${JSON.stringify(value)} is not an int64`);
      if (big < INT64_MIN || big > INT64_MAX) return failed(`${value} is outside the int64 range`);
      const buf = Buffer.alloc(8);
      buf.writeBigInt64BE(big);
      return ok(buf);
    }
    case "float64": {
      let n: number;
      if (typeof value === "number") n = value;
      else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) n = Number(value);
      else return failed(`${JSON.stringify(value)} is not a float64`);
      const buf = Buffer.alloc(8);
      buf.writeDoubleBE(n);
      return ok(buf);
    }
    case "bool": {
      if (value === true || value === "true") return ok(Buffer.from([1]));
      if (value === false || value === "false") return ok(Buffer.from([0]));
      return failed(`${JSON.stringify(value)} is not a bool`);
    }
    case "string": {
      if (typeof value === "string") return ok(Buffer.from(value, "utf8"));
      if (typeof value === "number" || typeof value === "boolean") return ok(Buffer.from(String(value), "utf8"));
      return failed(`${JSON.stringify(value)} is not a string (use the json encoding for objects and arrays)`);
    }
    case "json": {
      const text = JSON.stringify(value);
      if (text === undefined) return failed("value has no JSON form");
      return ok(Buffer.from(text, "utf8"));
    }
    default:
      return failed(`unknown encoding ${JSON.stringify(encoding)}`);
  }
}

/** Decodes bytes written by `encodeCell`. int64 outside the safe integer range decodes to a decimal string. */
export function decodeCell(bytes: Uint8Array, encoding: CellEncoding): CellValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (encoding) {
    case "int64": {
      if (buf.length !== 8) throw new Error(`int64 cell has ${buf.length} bytes, expected 8`);
      const big = buf.readBigInt64BE();
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
    }
    case "float64":
      if (buf.length !== 8) throw new Error(`float64 cell has ${buf.length} bytes, expected 8`);
      return buf.readDoubleBE();
    case "bool":
      if (buf.length !== 1) throw new Error(`bool cell has ${buf.length} bytes, expected 1`);
      return buf[0] !== 0;
    case "string":
      return buf.toString("utf8");
    case "json":
      return JSON.parse(buf.toString("utf8")) as CellValue;
    default:
      throw new Error(`unknown encoding ${JSON.stringify(encoding)}`);
  }
}
