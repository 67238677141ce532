import { test } from "node:test";
import * as assert from "node:assert/strict";
import { dailyAverages } from "../../transforms/sensor-averages";
import { sensorConfig, readings } from "./sensor-fixtures";

test("daily averages per station and local day, with rejects and duplicates", () => {
  const r = dailyAverages(readings, sensorConfig);
  assert.deepEqual(r.rows, [
    { station_id: "A", day: "2024-03-01", co_avg: 2, pm25_avg: 10, readings: 2 },
    { station_id: "A", day: "2024-03-02", co_avg: 5, pm25_avg: 5, readings: 1 },
    { station_id: "NY1", day: "2024-03-01", co_avg: 2, pm25_avg: 4, readings: 2 },
  ]);
  assert.equal(r.duplicates, 1);
  assert.deepEqual(r.rejected.map((x) => x.reason).sort(), [
    'field "CO": -1 is below minimum 0',
    'field "CO": expected number, got string "n/a"',
    'field "timestamp": unparseable date "yesterday" (tried iso, sql)',
    'missing required field "station_id"',
  ]);
});

test("order of readings does not change the result", () => {
  const a = dailyAverages(readings, sensorConfig);
  const b = dailyAverages([...readings].reverse(), sensorConfig);
  assert.deepEqual(b.rows, a.rows);
});

test("local days align to local midnight across DST (New York, 25-hour day)", () => {
  const nyReadings = [];
  // every hour of 2024-11-03 in New York (25 hours) plus the hours either side
  for (let h = -2; h < 28; h++) {
    const ms = Date.UTC(2024, 10, 3, 4 + h, 0, 0); // 00:00 EDT = 04:00Z
    nyReadings.push({ station_id: "NY1", timestamp: new Date(ms).toISOString(), CO: 1, "PM2.5": 2, _payload_hash: String(h).padStart(3, "0") });
  }
  assert.deepEqual(dailyAverages(nyReadings, sensorConfig).rows.map((r) => [r.day, r.readings]), [["2024-11-02", 2], ["2024-11-03", 25], ["2024-11-04", 3]]);
});
