import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "crypto";
import type { Row } from "../../model/row";
import type { StationDay, TableSpec, Warehouse } from "../../model/backends";
import { dailyAverages, localDayBounds, type SensorAveragesConfig } from "../../transforms/sensor-averages";
import { jobsByLocation, jobsBySkill } from "../../transforms/job-counts";
import { DATAPRODUCT_TABLES } from "../../pipeline/aggregates";

/**
 * Shared by the DuckDB and the BigQuery-emulator tests: the recompute SQL against the pure
 * functions that define each dataproduct, on hub rows around DST changes and local midnights.
 */

export const sensorConfig: SensorAveragesConfig = {
  type: "sensor_daily_averages", stationField: "station_id", timestampField: "timestamp", zone: "Africa/Abidjan",
  stationZones: { ROME: "Europe/Rome", NY: "America/New_York" }, coField: "co", pm25Field: "pm2_5",
};

const HOUR = 3_600_000;

/**
 * Hub rows (UTC instants, as the cleaner lands them): three stations, every hour from 2024-03-09
 * to 2024-04-01 and from 2024-10-25 to 2024-11-05 (Rome's and New York's DST changes inside);
 * values with many decimals (the sums must match to the last bit), nulls, negatives (the
 * reading is left out), and duplicates of an instant under a larger payload hash.
 */
export function hubReadings(): Row[] {
  const rows: Row[] = [];
  const spans = [[Date.UTC(2024, 2, 9), Date.UTC(2024, 3, 1)], [Date.UTC(2024, 9, 25), Date.UTC(2024, 10, 5)]];
  let n = 0;
  for (const station of ["ROME", "NY", "ABJ"]) {
    for (const span of spans) {
      for (let t = span[0]; t < span[1]; t += HOUR) {
        n++;
        const ms = t;
        const r = (salt: number) => (crypto.createHash("sha256").update(`${station}${ms}${salt}`).digest().readUInt32BE(0) / 2 ** 32);
        const co = n % 29 === 0 ? null : n % 31 === 0 ? -1 : Math.round(r(1) * 1e6) / 7;
        const pm = n % 37 === 0 ? null : r(2) * 50;
        const hash = crypto.createHash("sha256").update(`${station}${ms}`).digest("hex");
        rows.push({ station_id: station, timestamp: new Date(ms).toISOString(), co: co, pm2_5: pm, _payload_hash: "1" + hash });
        if (n % 11 === 0) rows.push({ station_id: station, timestamp: new Date(ms).toISOString(), co: 999, pm2_5: 999, _payload_hash: "2" + hash });
      }
    }
  }
  // A station-day whose only reading is left out (negative CO): no row at all.
  rows.push({ station_id: "LONE", timestamp: "2024-03-15T12:00:00.000Z", co: -5, pm2_5: 1, _payload_hash: "3" });
  return rows;
}

export const readingsHub = (name: string): TableSpec => ({
  name: name,
  columns: [{ name: "station_id", type: "string" }, { name: "timestamp", type: "timestamp" }, { name: "co", type: "number" }, { name: "pm2_5", type: "number" }, { name: "_payload_hash", type: "string" }],
  primaryKey: ["station_id", "timestamp", "_payload_hash"],
});

export const POSTINGS: Row[] = [
  { id: "1", location: "Paris, Lyon", key_skills: "Python | SQL", _payload_hash: "a1" },
  { id: " 1 ", location: "Berlin", key_skills: "java", _payload_hash: "a0" }, // same posting as "1" (trimmed id), smaller hash wins
  { id: "2", location: "Paris /  Nantes ,Paris", key_skills: "python|python , Go", _payload_hash: "b" },
  { id: "3", location: "  New\u00a0  York ", key_skills: "sql|Sql|SQL", _payload_hash: "c" },
  { id: "4", location: null, key_skills: null, _payload_hash: "d" },
  { id: "5", location: ",,/", key_skills: "||", _payload_hash: "e" },
  { id: "6", location: "Lyon", key_skills: "Go,go,GO, Java", _payload_hash: "f" },
  { id: "7", location: "Paris", key_skills: "GO", _payload_hash: "g" },
];

export const postingsHub = (name: string): TableSpec => ({
  name: name,
  columns: [{ name: "id", type: "string" }, { name: "location", type: "string" }, { name: "key_skills", type: "string" }, { name: "_payload_hash", type: "string" }],
  primaryKey: ["id", "_payload_hash"],
});

const byStationDay = (a: Row, b: Row) => (String(a.station_id) + a.day < String(b.station_id) + b.day ? -1 : 1);

export interface RecomputeBackend {
  warehouse: Warehouse;
  /** `schema.table` as a query names it on this backend. */
  table(schema: string, name: string): string;
  close(): Promise<void>;
}

/**
 * The cases. `exact`: the means equal the pure function's to the last bit (DuckDB); otherwise
 * to 1e-12 relative (BigQuery's exact decimal sum vs the pure function's ordered double sum).
 */
export function recomputeCases(name: string, open: () => Promise<RecomputeBackend>, exact: boolean): void {
  const suffix = () => crypto.randomBytes(4).toString("hex");
  const close = (a: unknown, b: unknown, what: string) => {
    if (exact || a === null || b === null) return assert.equal(a, b, what);
    assert.ok(Math.abs(Number(a) - Number(b)) <= 1e-12 * Math.abs(Number(b)), `${what}: ${a} vs ${b}`);
  };

  test(`${name}: recomputed sensor averages equal dailyAverages on the hub, DST days included, and only the given keys change`, async () => {
    const b = await open();
    try {
      const hub = `readings_${suffix()}`;
      const product: TableSpec = { ...DATAPRODUCT_TABLES.sensor_daily_averages, name: `sensor_daily_averages_${suffix()}` };
      const rows = hubReadings();
      await b.warehouse.mergeHub(readingsHub(hub), rows);
      const expected = dailyAverages(rows, sensorConfig).rows;
      // The DST days are in the fixture with their 23 and 25 hours of readings.
      const hours = (station: string, day: string, zone: string) => {
        const b = localDayBounds(day, zone);
        return new Set(rows.filter((r) => r.station_id === station && Date.parse(String(r.timestamp)) >= b.startMs && Date.parse(String(r.timestamp)) < b.endMs).map((r) => r.timestamp)).size;
      };
      assert.deepEqual([hours("ROME", "2024-03-31", "Europe/Rome"), hours("ROME", "2024-10-27", "Europe/Rome"), hours("NY", "2024-03-10", "America/New_York"), hours("NY", "2024-11-03", "America/New_York")], [23, 25, 23, 25]);
      for (const k of [["ROME", "2024-03-31"], ["ROME", "2024-10-27"], ["NY", "2024-03-10"], ["NY", "2024-11-03"]]) {
        assert.ok(expected.some((r) => r.station_id === k[0] && r.day === k[1]), `${k.join(" ")} has a row`);
      }
      // A stale row of a key, and a key with no valid reading left: both are replaced by what the hub says.
      await b.warehouse.replaceDataProduct(product, [
        { station_id: "ROME", day: "2024-03-31", co_avg: 1, pm25_avg: 1, readings: 1, _run_id: "old" },
        { station_id: "LONE", day: "2024-03-15", co_avg: 1, pm25_avg: 1, readings: 1, _run_id: "old" },
        { station_id: "ABJ", day: "2024-03-20", co_avg: 7, pm25_avg: 7, readings: 7, _run_id: "old" },
      ]);
      const keys: StationDay[] = expected.filter((r) => r.day !== "2024-03-20").map((r) => ({ station_id: r.station_id, day: r.day }));
      keys.push({ station_id: "LONE", day: "2024-03-15" });
      const written = await b.warehouse.recomputeDataProduct({ table: product, hubTable: hub, aggregate: sensorConfig, keys: keys, runId: "run-2" });
      assert.equal(written, keys.length - 1, "every key but the one without a valid reading");
      const got = (await b.warehouse.query(`SELECT * FROM ${b.table("dataproducts", product.name)}`)).sort(byStationDay);
      const want = expected.filter((r) => r.day !== "2024-03-20").map((r) => ({ ...r, _run_id: "run-2" }) as Row);
      want.push({ station_id: "ABJ", day: "2024-03-20", co_avg: 7, pm25_avg: 7, readings: 7, _run_id: "old" });
      want.sort(byStationDay);
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        const w = want[i];
        const what = `${w.station_id} ${w.day}`;
        assert.deepEqual([g.station_id, g.day, g.readings, g._run_id], [w.station_id, w.day, w.readings, w._run_id], what);
        close(g.co_avg, w.co_avg, `${what} co_avg`);
        close(g.pm25_avg, w.pm25_avg, `${what} pm25_avg`);
      });
    } finally {
      await b.close();
    }
  });

  test(`${name}: recomputed job counts equal jobsByLocation / jobsBySkill on the hub and replace the whole table`, async () => {
    const b = await open();
    try {
      const hub = `postings_${suffix()}`;
      await b.warehouse.mergeHub(postingsHub(hub), POSTINGS);
      const location: TableSpec = { ...DATAPRODUCT_TABLES.jobs_by_location, name: `jobs_by_location_${suffix()}` };
      const skill: TableSpec = { ...DATAPRODUCT_TABLES.jobs_by_skill, name: `jobs_by_skill_${suffix()}` };
      await b.warehouse.replaceDataProduct(location, [{ location: "Stale", postings: 9, _run_id: "old" }]);
      await b.warehouse.recomputeDataProduct({ table: location, hubTable: hub, aggregate: { type: "jobs_by_location", idField: "id", locationField: "location" }, runId: "r" });
      await b.warehouse.recomputeDataProduct({ table: skill, hubTable: hub, aggregate: { type: "jobs_by_skill", idField: "id", skillsField: "key_skills" }, runId: "r" });
      const order = (col: string) => `ORDER BY postings DESC, ${col}`;
      const gotLocations = await b.warehouse.query(`SELECT location, postings, _run_id FROM ${b.table("dataproducts", location.name)} ${order("location")}`);
      const gotSkills = await b.warehouse.query(`SELECT skill, postings, _run_id FROM ${b.table("dataproducts", skill.name)} ${order("skill")}`);
      const wantLocations = jobsByLocation(POSTINGS, { idField: "id", locationField: "location" });
      const wantSkills = jobsBySkill(POSTINGS, { idField: "id", skillsField: "key_skills" });
      // The fixture exercises the rules: " 1 " is posting "1" (its smaller hash wins), "Paris" twice in one posting counts once.
      assert.deepEqual(wantLocations, [
        { location: "Paris", postings: 2 }, { location: "Berlin", postings: 1 }, { location: "Lyon", postings: 1 },
        { location: "Nantes", postings: 1 }, { location: "New York", postings: 1 },
      ]);
      assert.deepEqual(gotLocations, wantLocations.map((r) => ({ ...r, _run_id: "r" })));
      assert.deepEqual(gotSkills, wantSkills.map((r) => ({ ...r, _run_id: "r" })));
    } finally {
      await b.close();
    }
  });
}
