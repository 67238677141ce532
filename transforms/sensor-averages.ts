import * as luxon from "luxon";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row, Outcome } from "../model/row";
import { ok, failed } from "../model/row";
import type { AggregateConfig } from "../model/source-config";
import { compileDateParser, zoneOffsets } from "./dates";
import { payloadHash } from "./lineage";
import { describe } from "./validation";

export type SensorAveragesConfig = Extract<AggregateConfig, { type: "sensor_daily_averages" }>;

/** One row of `dataproducts.sensor_daily_averages`. */
export interface SensorDailyAverage {
  station_id: string;
  /** The station's local calendar day, `YYYY-MM-DD`. */
  day: string;
  co_avg: number | null;
  pm25_avg: number | null;
  /** Valid readings that day (after deduplication). */
  readings: number;
}

/** A reading whose station and time are known; values not yet checked. */
export interface KeyedReading {
  station: string;
  /** UTC instant of the reading. */
  utcMs: number;
  /** The instant shifted by the station's offset: ms whose UTC calendar day is the local day (gives `day`). */
  localMs: number;
  day: string;
  hash: string;
  reading: Row;
}

/** A reading ready to average. */
export interface CheckedReading extends KeyedReading {
  co: number | null;
  pm25: number | null;
}

export interface RejectedReading { reading: Row; reason: string }

/**
 * Station and time of a reading. The zone-less timestamp (`iso` or `sql`) is read in the
 * station's zone (`stationZones[station]`, else `zone`); one with an offset is an instant.
 */
export function compileReadingKeyer(config: SensorAveragesConfig): (reading: Row) => Outcome<KeyedReading> {
  const parsers = new Map<string, { parse: (raw: unknown) => Outcome<string>; offsetAt: (ms: number) => number }>();
  const forZone = (zone: string) => {
    let p = parsers.get(zone);
    if (p === undefined) parsers.set(zone, (p = { parse: compileDateParser({ formats: ["iso", "sql"], zone: zone, output: "timestamp" }), offsetAt: zoneOffsets(zone) }));
    return p;
  };
  return (reading: Row) => {
    const rawStation = reading[config.stationField];
    if (rawStation === undefined || rawStation === null || rawStation === "") return failed(`missing required field "${config.stationField}"`);
    if (typeof rawStation !== "string" && typeof rawStation !== "number") return failed(`field "${config.stationField}": expected string, got ${describe(rawStation)}`);
    const station = String(rawStation);
    const p = forZone(stationZone(config, station));
    const rawTs = reading[config.timestampField];
    if (rawTs === undefined || rawTs === null || rawTs === "") return failed(`missing required field "${config.timestampField}"`);
    const ts = p.parse(rawTs);
    if (!ts.ok) return failed(`field "${config.timestampField}": ${ts.reason}`);
    const utcMs = Date.parse(ts.value);
    const localMs = utcMs + p.offsetAt(utcMs) * 60_000;
    return ok({
      station: station,
      utcMs: utcMs,
      localMs: localMs,
      day: new Date(localMs).toISOString().slice(0, 10),
      hash: typeof reading._payload_hash === "string" ? reading._payload_hash : payloadHash(reading),
      reading: reading,
    });
  };
}

/** The zone a station's local days are counted in: `stationZones[station]`, else `zone` (IANA names). */
export function stationZone(config: SensorAveragesConfig, station: string): string {
  return config.stationZones[station] ?? config.zone;
}

/**
 * The UTC instants `[startMs, endMs)` (ms) of local calendar day `day` (`YYYY-MM-DD`) in `zone`:
 * 23 or 25 hours on DST-change days (luxon's tz rules, as `zoneOffsets`).
 */
export function localDayBounds(day: string, zone: string): { startMs: number; endMs: number } {
  const start = luxon.DateTime.fromISO(day, { zone: zone }).startOf("day");
  if (!start.isValid) throw new Error(`localDayBounds: ${JSON.stringify(day)} in ${zone}: ${start.invalidExplanation ?? start.invalidReason}`);
  return { startMs: start.toMillis(), endMs: start.plus({ days: 1 }).toMillis() };
}

/** CO and PM2.5: a number >= 0 (numeric strings accepted) or missing (`null`); anything else rejects the reading. */
export function checkReadingValues(keyed: KeyedReading, config: SensorAveragesConfig): Outcome<CheckedReading> {
  const co = metric(keyed.reading[config.coField], config.coField);
  const pm25 = metric(keyed.reading[config.pm25Field], config.pm25Field);
  const reasons = [co, pm25].filter((o): o is { ok: false; reason: string } => !o.ok).map((o) => o.reason);
  if (reasons.length) return failed(reasons.join("; "));
  return ok(Object.assign({}, keyed, { co: (co as { value: number | null }).value, pm25: (pm25 as { value: number | null }).value }));
}

function metric(raw: unknown, name: string): Outcome<number | null> {
  if (raw === undefined || raw === null || raw === "") return ok(null);
  let v = raw;
  if (typeof v === "string" && /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(v.trim())) v = Number(v.trim());
  if (typeof v !== "number" || !Number.isFinite(v)) return failed(`field "${name}": expected number, got ${describe(raw)}`);
  if (v < 0) return failed(`field "${name}": ${v} is below minimum 0`);
  return ok(v);
}

/** Among readings of one station at one instant, the one with the smallest payload hash. */
export function firstByHash<T extends { hash: string }>(readings: Iterable<T>): { kept: T; duplicates: number } {
  let kept: T | undefined;
  let n = 0;
  for (const r of readings) {
    n++;
    if (kept === undefined || r.hash < kept.hash) kept = r;
  }
  if (kept === undefined) throw new Error("firstByHash: no readings");
  return { kept: kept, duplicates: n - 1 };
}

/** Mean of the non-null values, summed in sorted order so the result does not depend on input order. */
function mean(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (present.length === 0) return null;
  let sum = 0;
  for (const v of present) sum += v;
  return sum / present.length;
}

/** One station-day's row from its (deduplicated, valid) readings. */
export function averageDay(station: string, day: string, readings: readonly CheckedReading[]): SensorDailyAverage {
  return {
    station_id: station,
    day: day,
    co_avg: mean(readings.map((r) => r.co)),
    pm25_avg: mean(readings.map((r) => r.pm25)),
    readings: readings.length,
  };
}

/**
 * Daily averages per station and local calendar day: readings keyed (bad station/time
 * rejected), deduplicated on (station, instant) keeping the smallest payload hash, checked
 * (negative or non-numeric CO/PM2.5 rejected; nulls left out of that metric's mean), averaged.
 * Rows sorted by station, then day.
 */
export function dailyAverages(readings: readonly Row[], config: SensorAveragesConfig): { rows: SensorDailyAverage[]; rejected: RejectedReading[]; duplicates: number } {
  const keyer = compileReadingKeyer(config);
  const rejected: RejectedReading[] = [];
  const byInstant = new Map<string, KeyedReading[]>();
  for (const reading of readings) {
    const k = keyer(reading);
    if (!k.ok) { rejected.push({ reading: reading, reason: k.reason }); continue; }
    const key = k.value.station + "\u0000" + k.value.utcMs;
    const group = byInstant.get(key);
    if (group) group.push(k.value);
    else byInstant.set(key, [k.value]);
  }
  let duplicates = 0;
  const byDay = new Map<string, CheckedReading[]>();
  for (const group of byInstant.values()) {
    const first = firstByHash(group);
    duplicates += first.duplicates;
    const checked = checkReadingValues(first.kept, config);
    if (!checked.ok) { rejected.push({ reading: first.kept.reading, reason: checked.reason }); continue; }
    const key = checked.value.station + "\u0000" + checked.value.day;
    const day = byDay.get(key);
    if (day) day.push(checked.value);
    else byDay.set(key, [checked.value]);
  }
  const rows = [...byDay.values()].map((rs) => averageDay(rs[0].station, rs[0].day, rs));
  rows.sort((a, b) => (a.station_id < b.station_id ? -1 : a.station_id > b.station_id ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return { rows: rows, rejected: rejected, duplicates: duplicates };
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/sensor-averages", { stationZone: stationZone, localDayBounds: localDayBounds, compileReadingKeyer: compileReadingKeyer, checkReadingValues: checkReadingValues, firstByHash: firstByHash, averageDay: averageDay, dailyAverages: dailyAverages, metric: metric, mean: mean });
