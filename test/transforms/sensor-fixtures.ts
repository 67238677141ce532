import type { SensorAveragesConfig } from "../../transforms/sensor-averages";

/** Shared by the pure and the direct-runner sensor tests. */
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
