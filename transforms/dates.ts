import * as luxon from "luxon";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row, Outcome } from "../model/row";
import { ok, failed } from "../model/row";
import { utcDate, utcIso } from "../model/utc-text";

requireForSerialization("luxon", luxon);

/**
 * Dates, parsed once per format and read fast.
 *
 * Semantics (the same on the fast path and on the luxon path):
 * - Formats are tried in the declared order; the first that accepts the input wins.
 * - `iso` (with or without offset), `sql` (`yyyy-MM-dd HH:mm:ss[.SSS]`) and luxon patterns
 *   (`dd/MM/yyyy`) without an offset are wall-clock times in `zone`. `rfc2822` always carries
 *   its zone; `epoch_s` / `epoch_ms` are instants (numbers or digit strings).
 * - A wall-clock time that happens twice (DST fall-back) is the earlier instant the first time a
 *   scope (the caller's `seen`, e.g. one page) shows it, the later instant after that. One that
 *   does not exist (spring-forward gap) is rejected (`onGap: "reject"`, the default) or moved
 *   forward by the gap (`onGap: "shift"`: 02:30 -> 03:30 in Paris); a date-only input at a
 *   midnight gap is always the day's first instant. Luxon alone would pick the overlap's
 *   instant by *today's* offset, so the luxon path here reads the wall clock with luxon and
 *   does the zone step itself.
 * - `output: "timestamp"`: UTC ISO-8601 with milliseconds; a date-only input is midnight in `zone`.
 * - `output: "date"`: `YYYY-MM-DD` = the calendar date in `zone` of the instant. For a date-only
 *   input that is the date as written; for `2024-03-01T23:30:00Z` in Europe/Paris it is `2024-03-02`.
 * - Years outside 0001-9999 are rejected; luxon's time-only inputs (which it dates "today") too.
 * - Fractions finer than a millisecond are truncated.
 */
export interface DateParserConfig {
  formats: readonly string[];
  zone?: string;
  output?: "date" | "timestamp";
  /** A wall time in a spring-forward gap: `reject` (default) or `shift` forward by the gap. */
  onGap?: "reject" | "shift";
}

/**
 * What one parse may need from its caller: `seen(wallMs)` returns how many times this wall
 * time (ms as if UTC) was already seen in the caller's scope and records this occurrence (asked
 * only for wall times in a DST overlap); `notes` receives `dst_overlap_later` / `dst_gap_shifted`.
 */
export interface ParseContext {
  seen?: (wallMs: number) => number;
  notes?: Record<string, number>;
}

/** A parse failure; `gap` marks a wall time that does not exist (never nulled as unparseable). */
export type DateOutcome = Outcome<string> & { gap?: true };

/** The shape a format reads: an instant (UTC ms), or a wall-clock time in the zone (ms as if UTC). */
type Parsed = { instant: true; ms: number } | { instant: false; ms: number; dateOnly: boolean };
/** `null`: definitely not this format; `undefined`: let luxon decide. */
type FastReader = (text: string) => Parsed | null | undefined;
type SlowReader = (text: string) => Parsed | null;
interface CompiledFormat { fast?: FastReader; slow: SlowReader; epoch?: "s" | "ms" }

const MIN_MS = -62135596800000; // 0001-01-01T00:00:00.000Z
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Offset of `zone` in minutes at a UTC instant, memoized per UTC hour (hours holding a transition are computed exactly). */
export function zoneOffsets(zoneName: string): (utcMs: number) => number {
  const zone = luxon.Info.normalizeZone(zoneName);
  if (!zone || !zone.isValid) throw new Error(`unknown time zone "${zoneName}"`);
  if (zone.isUniversal) {
    const fixed = zone.offset(0);
    return () => fixed;
  }
  const memo = new Map<number, number>();
  return (utcMs: number) => {
    const hour = Math.floor(utcMs / HOUR);
    let offset = memo.get(hour);
    if (offset === undefined) {
      const start = zone.offset(hour * HOUR);
      offset = start === zone.offset(hour * HOUR + HOUR - 1) ? start : NaN;
      if (memo.size > 200_000) memo.clear();
      memo.set(hour, offset);
    }
    return Number.isNaN(offset) ? zone.offset(utcMs) : offset;
  };
}

/**
 * The UTC instants (ms) a wall-clock time (ms as if UTC) stands for: one (`earlier === later`),
 * two in a DST overlap, or none in a gap (`gap: true`; `earlier`/`later` are then the wall time
 * shifted forward by the gap).
 */
export function resolveWall(
  wallMs: number,
  offsetAt: (utcMs: number) => number,
): { earlier: number; later: number; gap: boolean } {
  const before = offsetAt(wallMs - DAY);
  const after = offsetAt(wallMs + DAY);
  const a = wallMs - before * 60_000;
  if (before === after) return { earlier: a, later: a, gap: false };
  const b = wallMs - after * 60_000;
  const aOk = offsetAt(a) === before;
  const bOk = offsetAt(b) === after;
  if (aOk && bOk) return { earlier: Math.min(a, b), later: Math.max(a, b), gap: false };
  if (aOk) return { earlier: a, later: a, gap: false };
  if (bOk) return { earlier: b, later: b, gap: false };
  const shifted = wallMs - Math.min(before, after) * 60_000;
  return { earlier: shifted, later: shifted, gap: true };
}

/** The UTC instant of a wall-clock time (ms as if UTC): overlaps -> earlier, gaps -> shifted forward. */
export function wallToUtc(wallMs: number, offsetAt: (utcMs: number) => number): number {
  return resolveWall(wallMs, offsetAt).earlier;
}

const daysIn = (y: number, m: number): number =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;

/** Wall-clock ms for valid fields, or `undefined` when a field is out of range (luxon then decides). */
function wall(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 || y < 1) return undefined;
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (y < 100) {
    const dt = new Date(t);
    dt.setUTCFullYear(y);
    t = dt.getTime();
  }
  return t;
}

/** luxon's own reading of fraction digits (`parseMillis`), so both paths truncate alike. */
const fractionMs = (digits: string | undefined): number => (digits ? Math.floor(parseFloat("0." + digits) * 1000) : 0);

/** luxon's `signedOffset`. */
function signedOffset(hours: string, minutes: string | undefined): number {
  const h = parseInt(hours, 10);
  const m = parseInt(minutes ?? "", 10) || 0;
  return h * 60 + (h < 0 || Object.is(h, -0) ? -m : m);
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?(?:(Z)|([+-]\d\d)(?::?(\d\d))?)?)?$/;
const SQL = /^(\d{4})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?$/;

function readIsoLike(re: RegExp): FastReader {
  return (text: string) => {
    const m = re.exec(text);
    if (m === null) return undefined;
    const hasTime = m[4] !== undefined;
    const w = wall(+m[1], +m[2], +m[3], hasTime ? +m[4] : 0, hasTime ? +m[5] : 0, m[6] ? +m[6] : 0, fractionMs(m[7]));
    if (w === undefined) return undefined;
    if (m[8] !== undefined) return { instant: true, ms: w };
    if (m[9] !== undefined) return { instant: true, ms: w - signedOffset(m[9], m[10]) * 60_000 };
    return { instant: false, ms: w, dateOnly: !hasTime };
  };
}

const FAST_TOKENS: Record<string, string> = {
  yyyy: "\\d{4}", M: "\\d{1,2}", MM: "\\d{2}", d: "\\d{1,2}", dd: "\\d{2}", H: "\\d{1,2}", HH: "\\d{2}",
  m: "\\d{1,2}", mm: "\\d{2}", s: "\\d{1,2}", ss: "\\d{2}", S: "\\d{1,3}", SSS: "\\d{3}",
};

/**
 * A regex reader for a luxon pattern made only of numeric tokens (yyyy, M/MM, d/dd, H/HH, m/mm,
 * s/ss, S/SSS) and literals, with year, month and day present; `undefined` for any other pattern.
 * It mirrors luxon's token regexes (anchored, case-insensitive literals), so a mismatch is a
 * definite "no".
 */
function compilePatternReader(pattern: string): FastReader | undefined {
  const units: string[] = [];
  let source = "^";
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) return undefined;
      source += escapeRe(pattern.slice(i + 1, end));
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      const token = pattern.slice(i, j);
      if (!FAST_TOKENS[token] || units.some((u) => u[0] === c)) return undefined;
      units.push(token);
      source += "(" + FAST_TOKENS[token] + ")";
      i = j;
    } else {
      source += escapeRe(c);
      i++;
    }
  }
  const at = (letter: string) => units.findIndex((u) => u[0] === letter) + 1;
  const y = at("y"), mo = at("M"), d = at("d"), h = at("H"), mi = at("m"), s = at("s"), ms = at("S");
  if (!y || !mo || !d) return undefined;
  const re = new RegExp(source + "$", "i");
  const dateOnly = !h && !mi && !s && !ms;
  return (text: string) => {
    const m = re.exec(text);
    if (m === null) return null;
    const w = wall(+m[y], +m[mo], +m[d], h ? +m[h] : 0, mi ? +m[mi] : 0, s ? +m[s] : 0, ms ? +m[ms] : 0);
    return w === undefined ? undefined : { instant: false, ms: w, dateOnly: dateOnly };
  };
}

const escapeRe = (s: string) => s.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, "\\$&");

/** Inputs luxon would date "today" (time-only ISO/SQL) are not dates. */
const STARTS_WITH_DATE = /^(?:[+-]\d{6}|\d{4})/;
const LUXON_OPTS = { locale: "en-US", numberingSystem: "latn" } as const;
const PROBE_ZONE = "UTC+3";

/** Reads a luxon result as an instant or, when the input had no zone, as a wall-clock time. */
function luxonReader(read: (text: string, zone: string) => luxon.DateTime, mayCarryZone: boolean, guard?: RegExp): SlowReader {
  return (text: string) => {
    if (guard && !guard.test(text)) return null;
    const utc = read(text, "UTC");
    if (!utc.isValid) return null;
    if (mayCarryZone && read(text, PROBE_ZONE).toMillis() === utc.toMillis()) return { instant: true, ms: utc.toMillis() };
    return { instant: false, ms: utc.toMillis(), dateOnly: false };
  };
}

function compileFormat(format: string): CompiledFormat {
  switch (format) {
    case "iso":
      return { fast: readIsoLike(ISO), slow: luxonReader((t, zone) => luxon.DateTime.fromISO(t, { zone: zone, ...LUXON_OPTS }), true, STARTS_WITH_DATE) };
    case "sql":
      return { fast: readIsoLike(SQL), slow: luxonReader((t, zone) => luxon.DateTime.fromSQL(t, { zone: zone, ...LUXON_OPTS }), true, STARTS_WITH_DATE) };
    case "rfc2822":
      return { slow: luxonReader((t, zone) => luxon.DateTime.fromRFC2822(t, { zone: zone, ...LUXON_OPTS }), true) };
    case "epoch_s":
      return { epoch: "s", slow: () => null };
    case "epoch_ms":
      return { epoch: "ms", slow: () => null };
    default: {
      const parser = luxon.DateTime.buildFormatParser(format, LUXON_OPTS);
      const carriesZone = /(^|[^'])[Zz]/.test(format.replace(/'[^']*'/g, ""));
      return {
        fast: compilePatternReader(format),
        slow: luxonReader((t, zone) => luxon.DateTime.fromFormatParser(t, parser, { zone: zone, ...LUXON_OPTS }), carriesZone),
      };
    }
  }
}

function readEpoch(raw: unknown, unit: "s" | "ms"): Parsed | null {
  let n: number;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && (unit === "s" ? /^-?\d+(?:\.\d+)?$/ : /^-?\d+$/).test(raw.trim())) n = Number(raw.trim());
  else return null;
  if (!Number.isFinite(n)) return null;
  return { instant: true, ms: unit === "s" ? n * 1000 : n };
}

const show = (raw: unknown): string => {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
};

/**
 * Compiles a date config once; the returned function parses one value. `fastPath: false` uses
 * luxon for every format (the reference the fast path is tested against).
 *
 * @example compileDateParser({ formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "timestamp" })("31/01/2024")
 *   // { ok: true, value: "2024-01-30T23:00:00.000Z" }
 */
export function compileDateParser(config: DateParserConfig, options: { fastPath?: boolean } = {}): (raw: unknown, context?: ParseContext) => DateOutcome {
  const zoneName = config.zone ?? "UTC";
  const offsetAt = zoneOffsets(zoneName);
  const output = config.output ?? "timestamp";
  const shiftGaps = config.onGap === "shift";
  if (config.formats.length === 0) throw new Error("dates: at least one format is required");
  const formats = config.formats.map(compileFormat);
  const useFast = options.fastPath !== false;
  const tried = `(tried ${config.formats.join(", ")})`;

  /** The output text; `undefined` when out of range (the next format may fit); `{ gap }` for a wall time that never was. */
  const render = (p: Parsed, context: ParseContext | undefined): string | undefined | { gap: string } => {
    if (!p.instant && p.dateOnly && output === "date") {
      if (p.ms < MIN_MS || p.ms > MAX_MS) return undefined;
      return utcDate(p.ms);
    }
    let utc = p.ms;
    if (!p.instant) {
      const r = resolveWall(p.ms, offsetAt);
      utc = r.earlier;
      if (r.gap && !p.dateOnly) {
        if (!shiftGaps) return { gap: `wall time ${wallText(p.ms)} does not exist in ${zoneName} (spring-forward gap)` };
        if (context?.notes) context.notes.dst_gap_shifted = (context.notes.dst_gap_shifted ?? 0) + 1;
      } else if (r.later !== r.earlier && context?.seen && context.seen(p.ms) > 0) {
        utc = r.later;
        if (context.notes) context.notes.dst_overlap_later = (context.notes.dst_overlap_later ?? 0) + 1;
      }
    }
    if (output === "timestamp") return utc < MIN_MS || utc > MAX_MS ? undefined : utcIso(utc);
    const local = utc + offsetAt(utc) * 60_000;
    return local < MIN_MS || local > MAX_MS ? undefined : utcDate(local);
  };

  return (raw: unknown, context?: ParseContext): DateOutcome => {
    if (typeof raw !== "string" && !(typeof raw === "number" && Number.isFinite(raw))) return failed(`unparseable date ${show(raw)} ${tried}`);
    const text = typeof raw === "string" ? raw.trim() : String(raw);
    for (const f of formats) {
      let parsed: Parsed | null | undefined;
      if (f.epoch) parsed = readEpoch(raw, f.epoch);
      else {
        if (useFast && f.fast) parsed = f.fast(text);
        if (parsed === undefined) parsed = f.slow(text);
      }
      if (parsed) {
        const value = render(parsed, context);
        if (typeof value === "string") return ok(value);
        if (value !== undefined) return { ok: false, reason: value.gap, gap: true };
      }
    }
    return failed(`unparseable date ${show(raw)} ${tried}`);
  };
}

/** A wall time (ms as if UTC) as `yyyy-MM-dd HH:mm:ss[.SSS]`. */
function wallText(wallMs: number): string {
  const iso = new Date(wallMs).toISOString();
  return iso.slice(0, 10) + " " + (iso.slice(20, 23) === "000" ? iso.slice(11, 19) : iso.slice(11, 23));
}

export interface DateField {
  formats: readonly string[];
  zone?: string;
  /** A per-row zone: the value of `field` picks an entry of `zones`; unlisted values use `zone`. */
  zoneBy?: { field: string; zones: Record<string, string> };
  output?: "date" | "timestamp";
  required?: boolean;
  onGap?: "reject" | "shift";
}

/**
 * The caller's scope for repeated wall times: `seen(key)` returns how many times `key` (field,
 * zone and wall time) was already seen and records this time; `notes` receives the DST counts
 * (`dst_overlap_later`, `dst_gap_shifted`, `dst_gap_rejected`).
 */
export interface DatesContext {
  seen?: (key: string) => number;
  notes?: Record<string, number>;
}

/** Counts per reason, e.g. `{ "signup_date: unparseable": 3 }`; an accumulator the caller owns. */
export type DateCounters = Record<string, number>;

/**
 * Compiles every declared date field once. The returned function replaces each field's value
 * by its normalized text. Missing (`null`, `undefined`, `""`): required -> failed, optional ->
 * `null`. Unparseable: required -> failed with the reason, optional -> `null` and
 * `counters["<field>: unparseable"]` incremented. A wall time in a DST gap under
 * `onGap: "reject"` fails whether the field is required or not. With `context.seen`, a wall
 * time repeated in a DST overlap is the later instant from its second occurrence on. A valid row
 * comes back as a new object (the input is never changed; the cleaning chain writes phone columns into it).
 */
export function compileDates(dates: Record<string, DateField>, options: { fastPath?: boolean } = {}): (row: Row, counters?: DateCounters, context?: DatesContext) => Outcome<Row> {
  const fields = Object.keys(dates).map((name) => {
    const declared = dates[name];
    const parse = compileDateParser(declared, options);
    const zoneBy = declared.zoneBy;
    // One parser per zone a row may name, compiled up front (zones are declared, so few).
    const byZone = new Map<string, { zone: string; parse: (raw: unknown, context?: ParseContext) => DateOutcome }>();
    for (const key of Object.keys(zoneBy?.zones ?? {})) {
      const zone = (zoneBy as { zones: Record<string, string> }).zones[key];
      byZone.set(key, { zone: zone, parse: compileDateParser({ ...declared, zone: zone }, options) });
    }
    const fallback = { zone: declared.zone ?? "UTC", parse: parse };
    return {
      name: name,
      required: declared.required === true,
      parserFor: (row: Row) => (zoneBy ? byZone.get(String(row[zoneBy.field])) ?? fallback : fallback),
    };
  });
  return (row: Row, counters?: DateCounters, context?: DatesContext): Outcome<Row> => {
    const out: Row = Object.assign({}, row);
    const reasons: string[] = [];
    for (const field of fields) {
      const raw = row[field.name];
      if (raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "")) {
        if (field.required) reasons.push(`missing required date field "${field.name}"`);
        out[field.name] = null;
        continue;
      }
      const parser = field.parserFor(row);
      const seen = context?.seen;
      const parsed = parser.parse(raw, {
        seen: seen ? (wallMs: number) => seen(`${field.name}\u0000${parser.zone}\u0000${wallMs}`) : undefined,
        notes: context?.notes,
      });
      if (parsed.ok) out[field.name] = parsed.value;
      else if (field.required || parsed.gap) {
        reasons.push(`field "${field.name}": ${parsed.reason}`);
        if (parsed.gap && context?.notes) context.notes.dst_gap_rejected = (context.notes.dst_gap_rejected ?? 0) + 1;
      }
      else {
        out[field.name] = null;
        if (counters) counters[`${field.name}: unparseable`] = (counters[`${field.name}: unparseable`] ?? 0) + 1;
      }
    }
    return reasons.length ? failed(reasons.join("; ")) : ok(out);
  };
}

/** One-off form of `compileDates` (compiles on every call: use `compileDates` in loops). */
export function applyDates(row: Row, dates: Record<string, DateField>, counters?: DateCounters): Outcome<Row> {
  return compileDates(dates)(row, counters);
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/dates", { zoneOffsets: zoneOffsets, resolveWall: resolveWall, wallToUtc: wallToUtc, wallText: wallText, compileDateParser: compileDateParser, compileDates: compileDates, applyDates: applyDates, compileFormat: compileFormat, compilePatternReader: compilePatternReader, readIsoLike: readIsoLike, luxonReader: luxonReader, readEpoch: readEpoch, wall: wall, signedOffset: signedOffset, fractionMs: fractionMs, daysIn: daysIn, escapeRe: escapeRe, show: show });
