import * as fs from "fs";
import * as path from "path";
import type { TableSpec } from "../model/backends";
import type { Row } from "../model/row";
import { filledForModel, hourlySeries, HOUR_MS, METRICS, type HourlyReading, type Metric } from "./hourly-series";

/**
 * The 2-hour air-quality forecast (`dataproducts.sensor_forecast`): the next two hourly CO and
 * PM2.5 values per station, from the station's hourly history in the hub.
 *
 * Method: MSTL (Bandara, Hyndman & Bergmeir 2021: seasonal-trend decomposition by Loess, here
 * with one daily period of 24 hours) with an automatically selected exponential smoothing (ETS)
 * model for the deseasonalised series, as implemented by Grafana's augurs library
 * (`@bsull/augurs/mstl`, `MSTL.ets([24])`). Missing hours are filled by linear interpolation
 * for the fit only; a forecast below 0 is reported as 0 (concentrations are never negative).
 *
 * Backtest (stored with every forecast row): rolling origin over the last `BACKTEST_ORIGINS`
 * hours - at each origin the model is fitted on the hours before it and predicts the next two;
 * the naive baseline predicts the last value before the origin for both. Errors are taken only
 * against hours that were measured (not filled); both mean absolute errors are in the metric's unit.
 */

/** Fewest hours of history a station needs for a forecast: three days (three daily seasons). */
export const MIN_HISTORY_HOURS = 72;
/** Rolling-origin backtest: this many origins, ending at the last hour that has two measured successors. */
export const BACKTEST_ORIGINS = 48;
export const HORIZON_HOURS = 2;
export const FORECAST_METHOD = "MSTL(24h) + AutoETS (augurs)";

/** A fitted model's point forecasts: `predict(history, horizon)` -> `horizon` values. */
export type Forecaster = (history: readonly number[], horizon: number) => number[];

/** The dataproduct: 2 rows (horizon 1 and 2 h) per station and metric. */
export const FORECAST_TABLE: TableSpec = {
  name: "sensor_forecast",
  columns: [
    { name: "station_id", type: "string" },
    { name: "metric", type: "string" },
    /** The forecast hour, UTC. */
    { name: "hour", type: "timestamp" },
    { name: "horizon_h", type: "integer" },
    { name: "value", type: "number" },
    { name: "backtest_mae", type: "number" },
    { name: "naive_mae", type: "number" },
    { name: "backtest_points", type: "integer" },
    { name: "history_hours", type: "integer" },
    { name: "method", type: "string" },
    { name: "computed_at", type: "timestamp" },
  ],
};

/** Mean absolute errors of the model and of the naive last-value forecast over the same points. */
export interface Backtest {
  mae: number;
  naiveMae: number;
  points: number;
}

/**
 * Rolling-origin backtest of `forecaster` against the naive last value on `values` (hourly,
 * `null` = not measured). Returns `undefined` when there is no origin with enough history.
 */
export function backtest(values: readonly (number | null)[], forecaster: Forecaster): Backtest | undefined {
  const filled = filledForModel(values);
  const lastOrigin = values.length - HORIZON_HOURS;
  const firstOrigin = Math.max(MIN_HISTORY_HOURS, lastOrigin - BACKTEST_ORIGINS + 1);
  let err = 0;
  let naiveErr = 0;
  let points = 0;
  for (let origin = firstOrigin; origin <= lastOrigin; origin++) {
    const history = filled.slice(0, origin);
    const predicted = forecaster(history, HORIZON_HOURS);
    const naive = history[history.length - 1];
    for (let h = 0; h < HORIZON_HOURS; h++) {
      const actual = values[origin + h];
      if (actual === null) continue;
      err += Math.abs(Math.max(0, predicted[h]) - actual);
      naiveErr += Math.abs(naive - actual);
      points++;
    }
  }
  return points === 0 ? undefined : { mae: err / points, naiveMae: naiveErr / points, points: points };
}

/**
 * Forecast rows for every station and metric of `readings` with at least `MIN_HISTORY_HOURS`
 * hours of history (others get none), sorted by station, metric, horizon. `computedAt` is
 * stamped on each row (UTC ISO 8601).
 */
export function sensorForecast(readings: readonly HourlyReading[], forecaster: Forecaster, computedAt: Date): Row[] {
  const rows: Row[] = [];
  for (const entry of hourlySeries(readings)) {
    const station = entry[0];
    for (const metric of METRICS) {
      const series = entry[1][metric];
      if (series.values.length < MIN_HISTORY_HOURS) continue;
      const tested = backtest(series.values, forecaster);
      const predicted = forecaster(filledForModel(series.values), HORIZON_HOURS);
      for (let h = 0; h < HORIZON_HOURS; h++) {
        rows.push({
          station_id: station,
          metric: metric satisfies Metric,
          hour: new Date(series.startMs + (series.values.length + h) * HOUR_MS).toISOString(),
          horizon_h: h + 1,
          value: Math.max(0, predicted[h]),
          backtest_mae: tested ? tested.mae : null,
          naive_mae: tested ? tested.naiveMae : null,
          backtest_points: tested ? tested.points : 0,
          history_hours: series.values.length,
          method: FORECAST_METHOD,
          computed_at: computedAt.toISOString(),
        });
      }
    }
  }
  return rows;
}

interface MstlModule {
  initSync(options: { module: Buffer }): unknown;
  MSTL: { ets(periods: number[]): { fit(y: number[]): void; predict(horizon: number): { point: number[] } } };
}

/**
 * The MSTL + AutoETS forecaster (daily period 24), loaded from `@bsull/augurs` (an ES module with
 * a WebAssembly core, instantiated here from the package's own .wasm file: no network).
 */
export async function loadMstlForecaster(): Promise<Forecaster> {
  const mstl = (await import("@bsull/augurs/mstl")) as unknown as MstlModule;
  const wasm = path.join(path.dirname(require.resolve("@bsull/augurs/mstl")), "mstl_bg.wasm");
  mstl.initSync({ module: fs.readFileSync(wasm) });
  return (history: readonly number[], horizon: number) => {
    const model = mstl.MSTL.ets([24]);
    model.fit([...history]);
    return model.predict(horizon).point;
  };
}

/** The naive baseline as a forecaster: the last value, repeated. */
export const naiveForecaster: Forecaster = (history, horizon) => new Array(horizon).fill(history[history.length - 1]);
