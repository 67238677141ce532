/**
 * Air-quality preset (AirQino-shaped): stations and hourly readings with zone-less timestamps.
 *
 * Mess in every station's series, by hour index h (0-based from 2024-01-01 00:00:00):
 * h === 5 -> CO null; h === 7 -> PM2.5 null; h === 11 -> CO -1; h === 13 -> PM10 "n/a";
 * h === 17 -> the row appears twice (identical copy right after it). Randomly (~1% each) more
 * nulls, -1 values, "n/a" values and duplicated rows.
 */
import { rngFor } from "../random";
import { zonelessTimestamp } from "./common";

export const AIRQUALITY_START_MS = Date.UTC(2024, 0, 1);

export interface Station {
  station_id: string;
  station_name: string;
  station_lat: number;
  station_lon: number;
}

export type Reading = Record<"CO" | "PM2.5" | "PM10" | "NO2" | "O3" | "T" | "T. int." | "RH", number | string | null> & { timestamp: string };

const FIXED_IDS = ["283181971", "283164601"];
const PLACES = [
  "Firenze - Via Ponte alle Mosse", "Prato - Piazza San Marco", "Pisa - Lungarno", "Livorno - Porto",
  "Siena - Viale Bracci", "Lucca - Sant'Anna", "Arezzo - Via Fiorentina", "Empoli - Centro",
];

/** Station id of index i: the first two are 283181971 and 283164601. */
export const stationId = (i: number): string => (i < FIXED_IDS.length ? FIXED_IDS[i] : String(283200000 + i * 1117));

export function airQualityStation(seed: number, i: number): Station {
  const r = rngFor(seed, "airquality.station", i);
  return {
    station_id: stationId(i),
    station_name: `SMART${String(10 + i)} ${PLACES[i % PLACES.length]}`,
    station_lat: Math.round((43.3 + r.next() * 0.6) * 1e6) / 1e6,
    station_lon: Math.round((10.3 + r.next() * 1.2) * 1e6) / 1e6,
  };
}

/** The index of a station id among `count` stations, or -1. */
export function stationIndexOf(id: string, count: number): number {
  const fixed = FIXED_IDS.indexOf(id);
  if (fixed >= 0) return fixed < count ? fixed : -1;
  const n = Number(id) - 283200000;
  if (!/^\d+$/.test(id) || n <= 0 || n % 1117 !== 0) return -1;
  const i = n / 1117;
  return i >= FIXED_IDS.length && i < count ? i : -1;
}

/** Reading h (0-based hour) of station i, before duplication. */
export function airQualityReading(seed: number, station: number, h: number): Reading {
  const r = rngFor(seed, "airquality.reading", station * 1_000_003 + h);
  const hourOfDay = h % 24;
  const diurnal = Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI);
  const traffic = hourOfDay >= 7 && hourOfDay <= 9 ? 1.6 : hourOfDay >= 17 && hourOfDay <= 19 ? 1.4 : 1;
  const t = Math.round((8 + 6 * diurnal + r.next() * 3) * 100) / 100;
  const reading: Reading = {
    timestamp: zonelessTimestamp(AIRQUALITY_START_MS + h * 3_600_000),
    CO: r.float(0.2, 1.2) * traffic,
    "PM2.5": r.float(5, 45) * traffic,
    PM10: r.float(10, 70) * traffic,
    NO2: r.float(10, 60) * traffic,
    O3: r.float(20, 110),
    T: t,
    "T. int.": Math.round((t + 6 + r.next() * 4) * 100) / 100,
    RH: r.float(35, 95, 1),
  };
  for (const k of ["CO", "PM2.5", "PM10", "NO2"] as const) reading[k] = Math.round((reading[k] as number) * 100) / 100;
  const fields = ["CO", "PM2.5", "PM10", "NO2", "O3", "RH"] as const;
  if (h === 5 || r.chance(0.01)) reading.CO = null;
  if (h === 7 || r.chance(0.01)) reading["PM2.5"] = null;
  if (h === 11) reading.CO = -1;
  else if (r.chance(0.005)) reading[r.pick(fields)] = -1;
  if (h === 13) reading.PM10 = "n/a";
  else if (r.chance(0.005)) reading[r.pick(fields)] = "n/a";
  return reading;
}

/** Whether hour h of the station's series is sent twice. */
export function airQualityDuplicated(seed: number, station: number, h: number): boolean {
  return h === 17 || rngFor(seed, "airquality.dup", station * 1_000_003 + h).chance(0.005);
}

/** The full `data` array for a station: days * 24 readings plus the duplicated rows. */
export function airQualityReadings(seed: number, station: number, days: number): Reading[] {
  const rows: Reading[] = [];
  for (let h = 0; h < days * 24; h++) {
    const row = airQualityReading(seed, station, h);
    rows.push(row);
    if (airQualityDuplicated(seed, station, h)) rows.push(Object.assign({}, row));
  }
  return rows;
}
