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
