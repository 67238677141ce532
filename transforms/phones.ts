import * as libphonenumber from "libphonenumber-js/max";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";

requireForSerialization("libphonenumber-js/max", libphonenumber);

export interface NormalizedPhone {
  /** `+<country code><number>` when the number is valid for its country, else `null`. */
  e164: string | null;
  valid: boolean;
  /** Why `valid` is false. */
  reason?: string;
}

export interface PhoneFieldConfig {
  /** ISO 3166 region for numbers written without a country code, e.g. `FR`. */
  region: string;
}

const PARSE_ERRORS: Record<string, string> = {
  NOT_A_NUMBER: "not a phone number",
  INVALID_COUNTRY: "no country code and no usable default region",
  TOO_SHORT: "too short",
  TOO_LONG: "too long",
  INVALID_LENGTH: "invalid length",
};

/**
 * ITU-T E.161 keypad letters, as Google's libphonenumber maps them (`ALPHA_MAPPINGS` in
 * PhoneNumberUtil); libphonenumber-js has no alpha-number support.
 */
const E161: Record<string, string> = {
  A: "2", B: "2", C: "2", D: "3", E: "3", F: "3", G: "4", H: "4", I: "4", J: "5", K: "5", L: "5",
  M: "6", N: "6", O: "6", P: "7", Q: "7", R: "7", S: "7", T: "8", U: "8", V: "8", W: "9", X: "9", Y: "9", Z: "9",
};
/** libphonenumber's `VALID_ALPHA_PHONE_PATTERN`: a number is written with letters when it has 3 or more. */
const ALPHA_NUMBER = /(?:.*?[A-Za-z]){3}/;
const DECIMAL_DIGIT = /\p{Nd}/u;
const ASCII = /^[\x00-\x7F]*$/;

/**
 * The value of a Unicode decimal digit (general category Nd) of any script. Unicode encodes
 * every Nd set as a contiguous run of ten code points, 0 to 9 (Unicode Standard, section 4.6
 * "Numeric Value", and its stability policy), so the value is the distance from the run's start
 * modulo 10 (runs of several sets, like the mathematical digits, hold whole sets).
 */
function unicodeDigit(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  let start = cp;
  while (start > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return String((cp - start) % 10);
}

/**
 * Phone text with every decimal digit written in ASCII, as Google's libphonenumber reads digits
 * of any script (`normalizeDigits`, Java `Character.digit`): libphonenumber-js's `parseDigits`
 * for the scripts it knows (fullwidth, Arabic-Indic, Eastern Arabic-Indic), the Unicode rule
 * above for the others (Devanagari, Bengali, Thai, ...). Other characters are kept.
 *
 * @example asciiDigits("०६ १२") // "06 12"
 */
export function asciiDigits(text: string): string {
  // ASCII text has no digits of other scripts (the common case): nothing to rewrite.
  if (ASCII.test(text)) return text;
  let out = "";
  for (const ch of text) {
    if (ch >= "0" && ch <= "9") out += ch;
    else if (DECIMAL_DIGIT.test(ch)) out += libphonenumber.parseDigits(ch) || unicodeDigit(ch);
    else out += ch;
  }
  return out;
}

/** Letters as their E.161 keypad digits: `1-800-GET-DATA` -> `1-800-438-3282`. */
export function keypadDigits(text: string): string {
  return text.replace(/[A-Za-z]/g, (c) => E161[c.toUpperCase()]);
}

/**
 * Parses a phone number with libphonenumber's full metadata and formats it as E.164. Numbers
 * without a country code are read in `region`; `00` international prefixes are understood in
 * every region (also where the dialing prefix is different, e.g. `0033…` with region US).
 * Numbers are accepted as strings or as numbers (digits-only APIs). Never throws.
 *
 * Text is normalized as Google's libphonenumber does before parsing: digits of any script
 * become ASCII (`asciiDigits`), and a number written with 3 or more letters (its
 * `VALID_ALPHA_PHONE_PATTERN`) has them read as E.161 keypad digits, unless only the text
 * without that reading is a valid number (e.g. `+1 415 555 2671 ext. 123`, whose letters are an
 * extension marker; Google strips extensions before mapping letters).
 *
 * @example normalizePhone("06 12 34 56 78", "FR") // { e164: "+33612345678", valid: true }
 * @example normalizePhone("1-800-GET-DATA", "US") // { e164: "+18004383282", valid: true }
 * @example normalizePhone("n/a", "FR") // { e164: null, valid: false, reason: "not a phone number" }
 */
export function normalizePhone(raw: unknown, region: string): NormalizedPhone {
  if (typeof raw !== "string" && typeof raw !== "number") return normalizeUncached(raw, region);
  // Keyed by region, then by the value itself (no joined key text to build and hash per call).
  let byValue = NORMALIZED.get(region);
  if (byValue === undefined) {
    byValue = new Map();
    NORMALIZED.set(region, byValue);
  }
  const known = byValue.get(raw);
  if (known !== undefined) return known;
  const result = Object.freeze(normalizeUncached(raw, region));
  // Re-sent records and shared numbers repeat: a bounded memo, emptied when full.
  if (++memoSize > MEMO_LIMIT) {
    NORMALIZED.clear();
    memoSize = 1;
    byValue = new Map();
    NORMALIZED.set(region, byValue);
  }
  byValue.set(raw, result);
  return result;
}

/**
 * At most this many (region, value) results are remembered by `normalizePhone` (a string and a
 * number of the same digits are two values): parsing is the largest single cost of cleaning.
 */
const MEMO_LIMIT = 50_000;
const NORMALIZED = new Map<string, Map<string | number, NormalizedPhone>>();
let memoSize = 0;

function normalizeUncached(raw: unknown, region: string): NormalizedPhone {
  if (raw === null || raw === undefined) return invalid("empty");
  if (typeof raw !== "string" && !(typeof raw === "number" && Number.isSafeInteger(raw) && raw > 0))
    return invalid(`not a phone number: ${typeof raw}`);
  const text = asciiDigits(String(raw).trim());
  if (text === "") return invalid("empty");
  if (text.length > 100) return invalid("too long");
  // Text without two digits cannot be a number; skip the parser (its errors are costly).
  if (!/\d.*\d/.test(text) && !/^\+?[A-Za-z0-9 ().-]{7,}$/.test(text)) return invalid("not a phone number");
  if (!libphonenumber.isSupportedCountry(region as libphonenumber.CountryCode)) return invalid(`unknown region "${region}"`);
  if (ALPHA_NUMBER.test(text)) {
    const lettered = parseWithPrefixes(keypadDigits(text), region);
    if (lettered.valid) return lettered;
  }
  return parseWithPrefixes(text, region);
}

/** `parse`, and for text starting with a `00` international prefix, `parse` of `+<rest>` when that is valid. */
function parseWithPrefixes(text: string, region: string): NormalizedPhone {
  const first = parse(text, region);
  if (first.valid || !/^00[1-9]/.test(text.replace(/[\s().-]/g, ""))) return first;
  const international = parse("+" + text.replace(/[\s().-]/g, "").slice(2), region);
  return international.valid ? international : first;
}

function parse(text: string, region: string): NormalizedPhone {
  try {
    const number = libphonenumber.parsePhoneNumberWithError(text, region as libphonenumber.CountryCode);
    if (number.isValid()) return { e164: number.number, valid: true };
    return invalid(number.isPossible() ? `not a valid number for ${number.country ?? "+" + number.countryCallingCode}` : `impossible number for ${number.country ?? "+" + number.countryCallingCode}`);
  } catch (e) {
    const code = (e as Error).message;
    return invalid(PARSE_ERRORS[code] ?? `unparseable: ${code}`);
  }
}

const invalid = (reason: string): NormalizedPhone => ({ e164: null, valid: false, reason: reason });

/**
 * Adds `<field>_e164` and `<field>_valid` for each declared phone field (the original column
 * stays as it was). A row's own `country` value, when it is a supported ISO region code
 * (`"GB"`, case-insensitive; `"UK"` is read as GB), overrides the configured region: a customer record that says
 * where its customer lives is better evidence than a per-source default. Pass
 * `countryField: null` to turn that off. Invalid numbers are kept (e164 `null`, valid `false`),
 * never dead-lettered: a bad phone number is not a reason to lose a customer.
 */
export function applyPhones(row: Row, phones: Record<string, PhoneFieldConfig>, options: { countryField?: string | null } = {}): Row {
  return writePhones(Object.assign({}, row), phones, options);
}

/**
 * `applyPhones` on a row the caller owns (e.g. one the cleaning chain just built): the columns
 * are added to `row` itself, and it is returned. Every value is read before any column is written.
 */
export function writePhones(row: Row, phones: Record<string, PhoneFieldConfig>, options: { countryField?: string | null } = {}): Row {
  const countryField = options.countryField === undefined ? "country" : options.countryField;
  const override = countryField === null ? undefined : rowRegion(row[countryField]);
  const fields = Object.keys(phones);
  const results = fields.map((field) => normalizePhone(row[field], override ?? phones[field].region));
  for (let i = 0; i < fields.length; i++) {
    const columns = phoneColumns(fields[i]);
    row[columns.e164] = results[i].e164;
    row[columns.valid] = results[i].valid;
  }
  return row;
}

/** `<field>_e164` and `<field>_valid`, built once per field name. */
function phoneColumns(field: string): { e164: string; valid: string } {
  let columns = PHONE_COLUMNS.get(field);
  if (columns === undefined) {
    columns = { e164: field + "_e164", valid: field + "_valid" };
    if (PHONE_COLUMNS.size >= 1000) PHONE_COLUMNS.clear();
    PHONE_COLUMNS.set(field, columns);
  }
  return columns;
}

const PHONE_COLUMNS = new Map<string, { e164: string; valid: string }>();

function rowRegion(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  // A feed's country values are few: each is read once.
  if (REGIONS.has(value)) return REGIONS.get(value);
  const region = regionOf(value);
  if (REGIONS.size >= 1000) REGIONS.clear();
  REGIONS.set(value, region);
  return region;
}

const REGIONS = new Map<string, string | undefined>();

function regionOf(value: string): string | undefined {
  if (!/^[A-Za-z]{2}$/.test(value.trim())) return undefined;
  const upper = value.trim().toUpperCase();
  const code = upper === "UK" ? "GB" : upper;
  return libphonenumber.isSupportedCountry(code as libphonenumber.CountryCode) ? code : undefined;
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/phones", { normalizePhone: normalizePhone, normalizeUncached: normalizeUncached, asciiDigits: asciiDigits, keypadDigits: keypadDigits, unicodeDigit: unicodeDigit, parseWithPrefixes: parseWithPrefixes, applyPhones: applyPhones, writePhones: writePhones, phoneColumns: phoneColumns, parse: parse, rowRegion: rowRegion, regionOf: regionOf, invalid: invalid });
