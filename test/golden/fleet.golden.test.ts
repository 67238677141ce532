import { test } from "node:test";
import * as assert from "node:assert/strict";
import { fleetDriver, fleetVehicleStat } from "../../sources/demo-api";
import { SEED, runGolden, sql, assertRunSucceeded } from "./helpers";

const SIZES = { drivers: 60, vehicleStatsPerDay: 10 };

test("fleet golden: drivers flattened with E.164 phones from digits-only input; vehicle stats of the date range", async () => {
  const run = await runGolden("fleet", SIZES, { from: "2024-01-01", to: "2024-01-02" });
  assertRunSucceeded(run.manifest);

  const drivers = await sql(run.out, "SELECT id, name, phone, phone_e164, phone_valid, updated_at_time, created_at_time, username, license_state, driver_activation_status, vehicle_id, vehicle_name, eld_settings_rulesets FROM hub.drivers ORDER BY id");
  assert.equal(drivers.length, SIZES.drivers);
  let digitsOnly = 0;
  let withoutVehicle = 0;
  for (let i = 0; i < SIZES.drivers; i++) {
    const d = fleetDriver(SEED, i);
    const row = drivers[i];
    assert.equal(row.id, d.id);
    assert.equal(row.name, d.name);
    assert.equal(row.username, d.username);
    assert.equal(row.license_state, d.licenseState);
    assert.equal(row.driver_activation_status, d.driverActivationStatus);
    assert.equal(row.updated_at_time, new Date(d.updatedAtTime).toISOString());
    assert.equal(row.created_at_time, new Date(d.createdAtTime).toISOString());
    // vehicle.{id,name} -> vehicle_id / vehicle_name; absent vehicle -> nulls
    assert.equal(row.vehicle_id, d.vehicle ? d.vehicle.id : null, `${d.id} vehicle_id`);
    assert.equal(row.vehicle_name, d.vehicle ? d.vehicle.name : null, `${d.id} vehicle_name`);
    if (!d.vehicle) withoutVehicle++;
    // arrays land in a json column (their inferred type), read back as the array
    assert.deepEqual(row.eld_settings_rulesets, d.eldSettings.rulesets);
    // tags are exploded (presets/fleet.yaml) into hub.drivers_tags, checked below
    assert.equal("tags" in row, false);
    // phones: 10 digits (US default region) or +1 + 10 digits -> +1XXXXXXXXXX; "" -> invalid
    assert.equal(row.phone, d.phone);
    if (d.phone === "") {
      assert.equal(row.phone_e164, null, `${d.id} empty phone`);
      assert.equal(row.phone_valid, false);
    } else {
      if (/^\d{10}$/.test(d.phone)) digitsOnly++;
      assert.equal(row.phone_e164, "+1" + d.phone.replace(/^\+1/, ""), `${d.id} phone ${d.phone}`);
      assert.equal(row.phone_valid, true);
    }
  }
  assert.ok(digitsOnly > 30 && withoutVehicle >= 3);
  assert.equal(drivers.find((r) => r.id === "100007")!.phone_e164, null); // i % 50 == 7: phone ""

  // vehicle stats: exactly the records with time in [2024-01-01, 2024-01-03), flattened
  // Exploded tags: one row per (driver, position), pointing at the driver.
  const tags = await sql(run.out, "SELECT parent_id, _index, id, name FROM hub.drivers_tags ORDER BY parent_id, _index");
  const expectedTags = Array.from({ length: SIZES.drivers }, (_, i) => fleetDriver(SEED, i))
    .flatMap((d) => (d.tags as { id: unknown; name: unknown }[]).map((t, index) => ({ parent_id: String(d.id), _index: index, id: String(t.id), name: String(t.name) })))
    .sort((a, b) => (a.parent_id < b.parent_id ? -1 : a.parent_id > b.parent_id ? 1 : a._index - b._index));
  assert.ok(expectedTags.length > 0, "the demo drivers carry no tags");
  assert.deepEqual(tags.map((t) => ({ parent_id: String(t.parent_id), _index: Number(t._index), id: String(t.id), name: String(t.name) })), expectedTags);

  const stats = await sql(run.out, "SELECT id, time, name, engine_state_value, gps_latitude, gps_longitude, gps_speed_miles_per_hour, gps_reverse_geo_formatted_location, fuel_percent_value FROM hub.vehicle_stats ORDER BY time, id");
  const n = 2 * SIZES.vehicleStatsPerDay;
  assert.equal(stats.length, n);
  for (let g = 0; g < n; g++) {
    const s = fleetVehicleStat(SEED, g, SIZES.vehicleStatsPerDay);
    const row = stats[g];
    assert.equal(row.id, s.id);
    assert.equal(row.time, new Date(s.time).toISOString());
    assert.equal(row.name, s.name);
    assert.equal(row.engine_state_value, s.engineState.value);
    assert.equal(Number(row.gps_latitude), s.gps.latitude);
    assert.equal(Number(row.gps_longitude), s.gps.longitude);
    assert.equal(Number(row.gps_speed_miles_per_hour), s.gps.speedMilesPerHour);
    assert.equal(row.gps_reverse_geo_formatted_location, s.gps.reverseGeo.formattedLocation);
    if (s.fuelPercent) assert.equal(Number(row.fuel_percent_value), s.fuelPercent.value, `g=${g} fuel`);
    else assert.equal(row.fuel_percent_value ?? null, null, `g=${g} has no fuelPercent`);
  }
  assert.equal(stats[5].fuel_percent_value ?? null, null); // g % 97 == 5
  assert.equal(run.manifest.entities.vehicle_stats.fetched, n);
});
