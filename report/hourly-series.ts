/**
 * Hourly series of a station's readings, the input of the forecast (report/forecast.ts).
 *
 * A reading counts for a metric when its value is a finite number >= 0 (the rule
 * `dataproducts.sensor_daily_averages` applies, sinks/recompute-sql.ts); several readings in one
 * UTC hour are averaged. The series is regular: one slot per UTC hour from the first to the last
 * hour with a value; an hour without one is `null` (filled only where a model needs it, see
 * `filledForModel`).
 */

/** One hub reading: the station, its instant (UTC ISO 8601 or epoch ms) and the two metrics. */
export interface HourlyReading {
  station_id: string;
  timestamp: string | number;
  co: unknown;
  pm25: unknown;
}

export type Metric = "co" | "pm25";
export const METRICS: readonly Metric[] = ["co", "pm25"];

/** A regular hourly series: `values[i]` is the mean of hour `startMs + i * HOUR_MS` (UTC), or null. */
export interface HourlySeries {
  startMs: number;
  values: (number | null)[];
}

export const HOUR_MS = 3_600_000;

/** A metric value the forecast may use: a finite number >= 0 (numeric strings accepted), else undefined. */
export function usableValue(v: unknown): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Per station (sorted by id) and metric, the hourly series of `readings`. A reading with an
 * unparseable instant is ignored (the hub never holds one: `timestamp` is required there).
 */
export function hourlySeries(readings: readonly HourlyReading[]): Map<string, Record<Metric, HourlySeries>> {
  const sums = new Map<string, Record<Metric, Map<number, { sum: number; n: number }>>>();
  for (const r of readings) {
    const ms = typeof r.timestamp === "number" ? r.timestamp : Date.parse(r.timestamp);
    if (!Number.isFinite(ms)) continue;
    const hour = Math.floor(ms / HOUR_MS);
    let station = sums.get(r.station_id);
    if (!station) {
      station = { co: new Map(), pm25: new Map() };
      sums.set(r.station_id, station);
    }
    for (const metric of METRICS) {
      const v = usableValue(r[metric]);
      if (v === undefined) continue;
      const cell = station[metric].get(hour) ?? { sum: 0, n: 0 };
      cell.sum += v;
      cell.n += 1;
      station[metric].set(hour, cell);
    }
  }
  const out = new Map<string, Record<Metric, HourlySeries>>();
  for (const id of [...sums.keys()].sort()) {
    const station = sums.get(id)!;
    out.set(id, { co: regular(station.co), pm25: regular(station.pm25) });
  }
  return out;
}

function regular(cells: Map<number, { sum: number; n: number }>): HourlySeries {
  if (cells.size === 0) return { startMs: 0, values: [] };
  const hours = [...cells.keys()];
  const first = Math.min(...hours);
  const last = Math.max(...hours);
  const values: (number | null)[] = [];
  for (let h = first; h <= last; h++) {
    const cell = cells.get(h);
    values.push(cell ? cell.sum / cell.n : null);
  }
  return { startMs: first * HOUR_MS, values: values };
}

/**
 * The series with every missing hour filled for a model that needs a gap-free input: by linear
 * interpolation between the nearest known hours (the nearest known value at either end).
 * Returns `[]` when no hour is known.
 */
export function filledForModel(values: readonly (number | null)[]): number[] {
  // Index of the nearest known hour at or after each hour (-1: none), scanned backwards.
  const next: number[] = new Array(values.length).fill(-1);
  for (let i = values.length - 1, seen = -1; i >= 0; i--) {
    if (values[i] !== null) seen = i;
    next[i] = seen;
  }
  if (values.length === 0 || (next[0] === -1)) return [];
  const out: number[] = [];
  let before = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) {
      out.push(v);
      before = i;
      continue;
    }
    const after = next[i];
    if (before < 0) out.push(values[after] as number);
    else if (after < 0) out.push(values[before] as number);
    else {
      const a = values[before] as number;
      const b = values[after] as number;
      out.push(a + ((b - a) * (i - before)) / (after - before));
    }
  }
  return out;
}
