import { DateTime } from "luxon";

/**
 * Date-range slices: `--from/--to` parsing, ISO-8601 step durations, splitting a range into
 * slices and writing each slice's bounds as query parameters. Pure UTC arithmetic; bounds in a
 * luxon pattern are written and checked with luxon.
 */

/** A half-open time range `[start, end)`, both UTC ISO-8601 timestamps with milliseconds. */
export interface Slice {
  start: string;
  end: string;
}

export interface DateRange {
  from: Date;
  to: Date;
}

/** `iso`, `date`, `epoch_ms`, or a luxon pattern such as `yyyyMMdd-HHmm` (model/source-config.ts checks it). */
export type SliceFormat = string;

export interface SliceParamsConfig {
  startParam: string;
  endParam?: string;
  format: SliceFormat;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DMY_DATE = /^(\d{2})\/(\d{2})\/(\d{4})$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function utcDay(year: number, month: number, day: number, text: string, flag: string): Date {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new Error(`${flag}: "${text}" is not a real calendar date`);
  }
  return date;
}

/**
 * Parses a `--from`/`--to` value: an ISO date (`2024-03-01`, midnight UTC), an ISO timestamp
 * (`2024-03-01T06:00:00Z`; without a zone it is read as UTC) or `dd/MM/yyyy` (`01/03/2024`).
 */
export function parseDateArg(text: string, flag = "--from"): { date: Date; dateOnly: boolean } {
  const value = text.trim();
  let m = ISO_DATE.exec(value);
  if (m) return { date: utcDay(Number(m[1]), Number(m[2]), Number(m[3]), value, flag), dateOnly: true };
  m = DMY_DATE.exec(value);
  if (m) return { date: utcDay(Number(m[3]), Number(m[2]), Number(m[1]), value, flag), dateOnly: true };
  if (ISO_TIMESTAMP.test(value)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : value + "Z";
    const date = new Date(zoned);
    if (!Number.isNaN(date.getTime())) return { date: date, dateOnly: false };
  }
  throw new Error(`${flag}: "${text}" is not a date; use yyyy-MM-dd, an ISO timestamp (2024-03-01T06:00:00Z) or dd/MM/yyyy`);
}

/**
 * The range of `--from`/`--to`. A date-only `--to` includes that whole day
 * (`--from 01/03/2024 --to 03/03/2024` is three days); a timestamp `--to` is exclusive.
 */
export function parseRangeArgs(from: string, to: string): DateRange {
  const start = parseDateArg(from, "--from").date;
  const end = parseDateArg(to, "--to");
  const endDate = end.dateOnly ? new Date(end.date.getTime() + 86_400_000) : end.date;
  if (endDate.getTime() <= start.getTime()) throw new Error(`--to (${to}) must be after --from (${from})`);
  return { from: start, to: endDate };
}

export interface Duration {
  years: number;
  months: number;
  days: number;
  ms: number;
}

/** Parses an ISO-8601 duration such as `P1D`, `PT6H`, `P1W`, `P1M`, `PT30M`, `P1DT12H`. */
export function parseDuration(text: string): Duration {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === "P" || text.endsWith("T")) throw new Error(`"${text}" is not an ISO-8601 duration (e.g. P1D, PT6H, P1W, P1M)`);
  const n = (i: number) => (m[i] ? Number(m[i]) : 0);
  const duration = { years: n(1), months: n(2), days: n(3) * 7 + n(4), ms: ((n(5) * 60 + n(6)) * 60 + n(7)) * 1000 };
  if (duration.years + duration.months + duration.days + duration.ms === 0) throw new Error(`"${text}" is a zero duration`);
  return duration;
}

/** Adds a duration in UTC (calendar months and years, clamped to the month's end, then days, then time). */
export function addDuration(date: Date, duration: Duration): Date {
  let out = new Date(date.getTime());
  const months = duration.years * 12 + duration.months;
  if (months) {
    // Jan 31 + P1M is the last day of February, not March 2.
    const target = new Date(Date.UTC(out.getUTCFullYear(), out.getUTCMonth() + months, 1));
    const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
    target.setUTCDate(Math.min(out.getUTCDate(), lastDay));
    out = new Date(target.getTime() + (out.getTime() % 86_400_000 + 86_400_000) % 86_400_000);
  }
  if (duration.days) out.setUTCDate(out.getUTCDate() + duration.days);
  return new Date(out.getTime() + duration.ms);
}

/** Splits `[from, to)` into consecutive slices of `step`; the last one ends at `to`. */
export function splitRange(range: DateRange, step: string): Slice[] {
  const duration = parseDuration(step);
  const slices: Slice[] = [];
  let start = range.from;
  while (start.getTime() < range.to.getTime()) {
    const next = addDuration(start, duration);
    const end = next.getTime() < range.to.getTime() ? next : range.to;
    slices.push({ start: start.toISOString(), end: end.toISOString() });
    start = end;
  }
  return slices;
}

/** A bound as the API wants it: ISO timestamp, `yyyy-MM-dd`, epoch milliseconds, or a luxon pattern in UTC. */
export function formatBound(iso: string, format: SliceFormat): string {
  const date = new Date(iso);
  if (format === "date") return date.toISOString().slice(0, 10);
  if (format === "epoch_ms") return String(date.getTime());
  if (format === "iso") return date.toISOString();
  return DateTime.fromMillis(date.getTime(), { zone: "utc" }).toFormat(format);
}

/**
 * Why a slice's bounds cannot be written exactly in a luxon pattern (e.g. a bound at 00:30 in
 * `yyyyMMdd-HH` would ask for another hour than the slice's), or undefined when they can (and for
 * the built-in formats). A request for the wrong window would overlap or skip data in silence.
 */
export function sliceBoundProblem(slice: Slice, format: SliceFormat): string | undefined {
  if (format === "iso" || format === "date" || format === "epoch_ms") return undefined;
  for (const bound of [slice.start, slice.end]) {
    const text = formatBound(bound, format);
    const back = DateTime.fromFormat(text, format, { zone: "utc" });
    if (!back.isValid || back.toMillis() !== Date.parse(bound))
      return `slice bound ${bound} cannot be written exactly as ${format} (it reads back as ${back.isValid ? back.toISO() : "no time"}): align --from/--to and the step with the pattern`;
  }
  return undefined;
}

/** The query parameters that carry a slice's bounds (the end bound is exclusive). */
export function sliceParams(slice: Slice, config: SliceParamsConfig): Record<string, string> {
  const out: Record<string, string> = { [config.startParam]: formatBound(slice.start, config.format) };
  if (config.endParam) out[config.endParam] = formatBound(slice.end, config.format);
  return out;
}
