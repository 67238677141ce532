import { test } from "node:test";
import * as assert from "node:assert/strict";
import { compileDates } from "../../transforms/dates";

test("zoneBy reads each row's zone-less time in the zone its field names, else the default zone", () => {
  const normalize = compileDates({
    timestamp: { formats: ["sql"], zone: "Africa/Abidjan", zoneBy: { field: "station_id", zones: { rome: "Europe/Rome" } }, output: "timestamp" },
  });
  const rome = normalize({ station_id: "rome", timestamp: "2024-07-01 12:00:00" });
  const abidjan = normalize({ station_id: "other", timestamp: "2024-07-01 12:00:00" });
  assert.deepEqual(rome, { ok: true, value: { station_id: "rome", timestamp: "2024-07-01T10:00:00.000Z" } });
  assert.deepEqual(abidjan, { ok: true, value: { station_id: "other", timestamp: "2024-07-01T12:00:00.000Z" } });
});
