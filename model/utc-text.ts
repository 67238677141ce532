/**
 * UTC instants as ISO-8601 text, exactly as `Date.prototype.toISOString` writes them, without a
 * `Date` per call: V8's `toISOString` costs about 1 µs, and the cleaning chain writes two or three
 * per record (dates, lake partitions). The calendar arithmetic is Howard Hinnant's
 * `civil_from_days` (http://howardhinnant.github.io/date_algorithms.html, proleptic Gregorian,
 * as ECMA-262's time values are).
 */

const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years `toISOString` writes with 4 digits. */
const FIRST_4_DIGIT_MS = -62167219200000;
const LAST_4_DIGIT_MS = 253402300799999;

const two = (n: number): string => (n < 10 ? "0" + n : "" + n);
const three = (n: number): string => (n < 10 ? "00" + n : n < 100 ? "0" + n : "" + n);
const four = (n: number): string => (n < 10 ? "000" + n : n < 100 ? "00" + n : n < 1000 ? "0" + n : "" + n);

/** `YYYY-MM-DD` of a day number (days since 1970-01-01, UTC) whose year is 0000-9999. */
function dayText(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return four(year) + "-" + two(month) + "-" + two(day);
}

/** True when `ms` is an integer time value `toISOString` writes with a 4-digit year (the fast path's domain). */
const fastDomain = (ms: number): boolean => Number.isInteger(ms) && ms >= FIRST_4_DIGIT_MS && ms <= LAST_4_DIGIT_MS;

/**
 * `new Date(ms).toISOString()`: `YYYY-MM-DDTHH:mm:ss.sssZ`. Outside years 0000-9999, for
 * fractional ms and for invalid times the call is delegated to `toISOString` (same text, same
 * `RangeError` for NaN).
 *
 * @example utcIso(0) // "1970-01-01T00:00:00.000Z"
 */
export function utcIso(ms: number): string {
  if (!fastDomain(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return dayText(days) + "T" + two(hours) + ":" + two(minutes) + ":" + two(seconds) + "." + three(rest - seconds * 1000) + "Z";
}

/**
 * `new Date(ms).toISOString().slice(0, 10)`: the UTC calendar date `YYYY-MM-DD`, delegated to
 * `toISOString` outside its fast domain as `utcIso` is.
 *
 * @example utcDate(Date.UTC(2024, 1, 29, 23, 59)) // "2024-02-29"
 */
export function utcDate(ms: number): string {
  if (!fastDomain(ms)) return new Date(ms).toISOString().slice(0, 10);
  return dayText(Math.floor(ms / DAY_MS));
}

