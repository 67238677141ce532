import { isSafeNumber, parse } from "lossless-json";

/**
 * JSON text -> values, the one parser of API bodies and queue messages (both sources agree).
 *
 * - Numbers: parsed by `lossless-json`. An integer literal beyond +-(2^53-1) becomes its exact decimal
 *   string (`1234567890123456789` -> `"1234567890123456789"`): the project-wide representation of
 *   big integers. A literal that overflows a double (`1e400`) is kept as its text too. Every other
 *   number is a JS number (decimals round to the nearest double, as in any JSON reader).
 * - Non-finite tokens: the bare `NaN`, `Infinity` and `-Infinity` (not JSON, RFC 8259 6, but sent by
 *   Python's `json.dumps` and others) outside strings become `null`, counted per record.
 * - Depth: a pre-scan (iterative, so a 5,000-level body cannot overflow the stack) cuts every
 *   container deeper than `recordLevel - 1 + maxDepth` levels (the body is level 1) out of the text
 *   before parsing and leaves a marker in its place; `takeMarkers` then tells which records were too
 *   deep and rebuilds their original text for the dead letter.
 *
 * Duplicate keys: `JSON.parse` keeps the last value; `lossless-json` (taken only when a big number may
 * be present) refuses a body whose duplicate keys differ, and that page fails with the key named.
 *
 * Invalid JSON gives `{ ok: false, reason }` with the parser's message (positions count in the text
 * after the replacements above); nothing here throws.
 */

/** Default `maxDepth` of a source: deeper records are dead-lettered when read. */
export const DEFAULT_MAX_DEPTH = 64;

export interface ParseOptions {
  /** Absolute nesting level of one record: 1 for a message body, `steps(recordsPath) + 2` for a page. */
  recordLevel: number;
  /** Deepest nesting a record may have (the record itself is level 1). */
  maxDepth: number;
}

export interface ParsedJson {
  ok: true;
  value: unknown;
  /** Marker prefix of this parse (a string that never occurs in the text). */
  marker: string;
  /** Original text of each container cut for depth, by marker index. */
  cut: string[];
  /** Non-finite tokens replaced in the whole text (each is a marker until `takeMarkers` nulls it). */
  nonFinite: number;
}

export type ParseResult = ParsedJson | { ok: false; reason: string };

/** Which markers a value held, after `takeMarkers` replaced the non-finite ones by null. */
export interface MarkerReport {
  /** Non-finite tokens nulled in this value. */
  nonFinite: number;
  /** The value had a container cut for depth: it must be dead-lettered. */
  tooDeep: boolean;
}

const NON_FINITE = ["NaN", "Infinity", "-Infinity"];

/**
 * Text that may hold a number a double cannot represent: 16+ digits in a row (every integer beyond
 * 2^53-1 has 16 digits or more) or a 3-digit exponent (overflow needs e309). Without either,
 * `JSON.parse` gives exactly what `lossless-json` would, about 6x faster (measured on 1.8 MB pages);
 * false positives (long digit runs inside strings) only take the lossless path.
 */
const MAYBE_UNSAFE_NUMBER = /\d{16}|[eE][+-]?\d{3}/;

function parseNumber(text: string): unknown {
  if (isSafeNumber(text)) return Number(text);
  if (/^-?\d+$/.test(text)) return text;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function pickMarker(text: string): string {
  for (let i = 0; ; i++) {
    const marker = `\u0000api2lake-${i}-`;
    if (!text.includes(JSON.stringify(marker).slice(1, -1))) return marker;
  }
}

/** Index just past the container that opens at `start` (string-aware), or `text.length` when unclosed. */
function containerEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** Parses JSON text as described in the module comment. */
export function parseJson(text: string, options: ParseOptions): ParseResult {
  const marker = pickMarker(text);
  const cutLevel = options.recordLevel - 1 + options.maxDepth;
  const cut: string[] = [];
  let nonFinite = 0;
  const out: string[] = [];
  let from = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (depth + 1 > cutLevel) {
        const end = containerEnd(text, i);
        out.push(text.slice(from, i), JSON.stringify(`${marker}deep:${cut.length}`));
        cut.push(text.slice(i, end));
        from = end;
        i = end - 1;
      } else depth++;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "N" || c === "I" || c === "-") {
      const at = i;
      const token = NON_FINITE.find((t) => text.startsWith(t, at));
      if (token) {
        out.push(text.slice(from, i), JSON.stringify(`${marker}nf`));
        nonFinite++;
        from = i + token.length;
        i = from - 1;
      }
    }
  }
  out.push(text.slice(from));
  const rewritten = out.join("");
  try {
    const value = MAYBE_UNSAFE_NUMBER.test(rewritten) ? parse(rewritten, null, parseNumber) : JSON.parse(rewritten);
    return { ok: true, value: value, marker: marker, cut: cut, nonFinite: nonFinite };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * Walks `value` (a record or a whole body of a successful parse), replaces non-finite markers by
 * `null` in place and reports what it found. Values are bounded in depth by the parse, so the
 * recursion is too.
 */
export function takeMarkers(value: unknown, parsed: ParsedJson): MarkerReport {
  const report: MarkerReport = { nonFinite: 0, tooDeep: false };
  if (parsed.nonFinite === 0 && parsed.cut.length === 0) return report;
  const nf = `${parsed.marker}nf`;
  const deep = `${parsed.marker}deep:`;
  const visit = (holder: Record<string, unknown> | unknown[], key: string | number): void => {
    const v = (holder as Record<string, unknown>)[key];
    if (typeof v === "string") {
      if (v === nf) {
        (holder as Record<string, unknown>)[key] = null;
        report.nonFinite++;
      } else if (v.startsWith(deep)) report.tooDeep = true;
    } else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) visit(v, i);
    else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) visit(v as Record<string, unknown>, k);
  };
  visit({ root: value }, "root");
  return report;
}

/** The JSON text of a value with every depth marker put back as the original text that was cut. */
export function originalText(value: unknown, parsed: ParsedJson): string {
  const text = JSON.stringify(value) ?? "null";
  let out = text;
  parsed.cut.forEach((original, index) => {
    out = out.split(JSON.stringify(`${parsed.marker}deep:${index}`)).join(original);
  });
  return out;
}
