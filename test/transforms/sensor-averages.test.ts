import { test } from "node:test";
import * as assert from "node:assert/strict";
import { dailyAverages, type SensorAveragesConfig } from "../../transforms/sensor-averages";

export const sensorConfig: SensorAveragesConfig = {
  type: "sensor_daily_averages", stationField: "station_id", timestampField: "timestamp", zone: "Europe/Rome",
  stationZones: { NY1: "America/New_York" }, coField: "CO", pm25Field: "PM2.5",
};

export const readings = [
  { station_id: "A", timestamp: "2024-03-01 00:30:00", CO: 1, "PM2.5": 10, _payload_hash: "01" },
  { station_id: "A", timestamp: "2024-03-01T23:30:00", CO: "3", "PM2.5": null, _payload_hash: "02" },
  { station_id: "A", timestamp: "2024-03-01T23:30:00", CO: 100, "PM2.5": 100, _payload_hash: "03" }, // duplicate, larger hash: dropped
  { station_id: "A", timestamp: "2024-03-01T23:30:00Z", CO: 5, "PM2.5": 5, _payload_hash: "04" }, // 00:30 on the 2nd in Rome
  { station_id: "A", timestamp: "2024-03-01 12:00:00", CO: -1, "PM2.5": 1, _payload_hash: "05" },
  { station_id: "A", timestamp: "2024-03-01 13:00:00", CO: "n/a", "PM2.5": 1, _payload_hash: "06" },
  { station_id: "NY1", timestamp: "2024-03-01 23:30:00", CO: 2, "PM2.5": 4, _payload_hash: "07" },
  { station_id: "NY1", timestamp: "2024-03-01 01:00:00", CO: null, "PM2.5": null, _payload_hash: "08" },
  { timestamp: "2024-03-01 01:00:00", CO: 1, _payload_hash: "09" },
  { station_id: "A", timestamp: "yesterday", CO: 1, _payload_hash: "10" },
];

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
