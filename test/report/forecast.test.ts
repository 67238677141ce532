import { test } from "node:test";
import * as assert from "node:assert/strict";
import { filledForModel, hourlySeries, usableValue } from "../../report/hourly-series";
import { backtest, loadMstlForecaster, naiveForecaster, sensorForecast, BACKTEST_ORIGINS, MIN_HISTORY_HOURS } from "../../report/forecast";
import { airQualityReadings, AIRQUALITY_START_MS, stationId } from "../../sources/demo-api/datasets/airquality";
import { DEFAULT_SIZES } from "../../sources/demo-api/sizes";

const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

test("hourlySeries: hours averaged, unusable values left out, missing hours null, stations sorted", () => {
  const t0 = Date.UTC(2024, 0, 1, 0);
  const got = hourlySeries([
    { station_id: "b", timestamp: iso(t0), co: 1, pm25: 10 },
    { station_id: "b", timestamp: iso(t0 + 30 * 60_000), co: 3, pm25: -1 },
    { station_id: "b", timestamp: iso(t0 + 3 * H), co: "2.5", pm25: null },
    { station_id: "a", timestamp: t0 + H, co: Number.NaN, pm25: 7 },
    { station_id: "a", timestamp: "not a time", co: 9, pm25: 9 },
  ]);
  assert.deepEqual([...got.keys()], ["a", "b"]);
  assert.deepEqual(got.get("b"), { co: { startMs: t0, values: [2, null, null, 2.5] }, pm25: { startMs: t0, values: [10] } });
  assert.deepEqual(got.get("a"), { co: { startMs: 0, values: [] }, pm25: { startMs: t0 + H, values: [7] } });
  assert.equal(usableValue(""), undefined);
  assert.equal(usableValue(0), 0);
});

test("filledForModel: linear between known hours, nearest value at the ends", () => {
  assert.deepEqual(filledForModel([null, 2, null, null, 8, null]), [2, 2, 4, 6, 8, 8]);
  assert.deepEqual(filledForModel([null, null]), []);
});

test("backtest: rolling origins over the last hours, errors only against measured hours", () => {
  // 80 hours: 0, 1, 2, ... with hour 78 unmeasured; origins 72..78 (values.length - 2 = 78), 7 origins.
  const values: (number | null)[] = Array.from({ length: 80 }, (_, i) => i);
  values[78] = null;
  const plusOne = (history: readonly number[], horizon: number) => Array.from({ length: horizon }, (_, h) => history[history.length - 1] + h + 1);
  const exact = backtest(values, plusOne)!;
  // points: 7 origins x 2 hours = 14, minus the two that hit hour 78 (origin 77 h+1, origin 78 h+0)
  // naive: 5 full origins x (1 + 2), origin 77 h+0 (1), origin 78 h+1 (2) = 18 over 12 points
  assert.deepEqual(exact, { mae: 0, naiveMae: 18 / 12, points: 12 });
  // the naive forecaster is its own baseline
  const naive = backtest(values, naiveForecaster)!;
  assert.equal(naive.mae, naive.naiveMae);
  assert.equal(backtest(values.slice(0, MIN_HISTORY_HOURS + 1), plusOne), undefined);
  assert.equal(BACKTEST_ORIGINS, 48);
});

test("the MSTL forecast beats the naive last value in its backtest on the demo API's readings (both metrics, every preset station)", async () => {
  const forecaster = await loadMstlForecaster();
  const readings = [0, 1].flatMap((i) =>
    airQualityReadings(42, i, DEFAULT_SIZES.readingsDays).map((r) => ({
      station_id: stationId(i),
      // the generator's zone-less wall clock, read as UTC (the hour grid is what matters here)
      timestamp: Date.parse(r.timestamp.replace(" ", "T") + "Z"),
      co: r.CO,
      pm25: r["PM2.5"],
    })));
  const rows = sensorForecast(readings, forecaster, new Date(Date.UTC(2026, 0, 1)));
  assert.equal(rows.length, 2 * 2 * 2, "2 stations x 2 metrics x 2 hours");
  const end = AIRQUALITY_START_MS + DEFAULT_SIZES.readingsDays * 24 * H;
  for (const r of rows) {
    assert.equal(r.hour, iso(end + (Number(r.horizon_h) - 1) * H));
    assert.ok(Number(r.value) >= 0 && Number.isFinite(Number(r.value)));
    assert.ok(Number(r.backtest_points) > 80, `${r.station_id}/${r.metric}: ${r.backtest_points} backtest points`);
    assert.ok(Number(r.backtest_mae) < Number(r.naive_mae), `${r.station_id}/${r.metric}: model ${r.backtest_mae} >= naive ${r.naive_mae}`);
  }
});
