import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import { airQualityReading, airQualityDuplicated, stationId } from "../../sources/demo-api";
import { SEED, runGolden, lakeRows, sql, rawGlob, assertRunSucceeded, type GoldenRun, type Row } from "./helpers";

const SIZES = { stations: 2, readingsDays: 3 };
const ABIDJAN = "283181971"; // preset default zone Africa/Abidjan (UTC+0)
const ROME = "283164601"; // stationZones: Europe/Rome

let run: GoldenRun;
before(async () => {
  // Daily slices from 2023-12-31 (Rome's first local hour is 23:00Z) through the last day of readings.
  run = await runGolden("airquality", SIZES, { from: "2023-12-31", to: "2024-01-03" });
});

/**
 * The independent daily averages: SQL over the raw lake. A reading counts when every declared
 * numeric field is null, the declared null value "n/a", or a number within its bounds (co, pm2_5, pm10, no2, o3 >= 0; rh in
 * 0..100; t, t_int numbers); identical copies count once; nulls stay out of a mean. AirQino
 * timestamps are zone-less wall-clock times *in the station's zone*, so the station's local day
 * is the date part of the timestamp as sent.
 */
async function independentAverages(): Promise<Row[]> {
  const cols = ["station_id", "timestamp", "CO", "PM2.5", "PM10", "NO2", "O3", "T", "T. int.", "RH"].map((c) => `'${c}': 'VARCHAR'`).join(", ");
  const num = (c: string) => `TRY_CAST(${c} AS DOUBLE)`;
  const ok = (c: string, lo?: number, hi?: number) => `(${c} IS NULL OR ${c} = 'n/a' OR (${num(c)} IS NOT NULL${lo !== undefined ? ` AND ${num(c)} >= ${lo}` : ""}${hi !== undefined ? ` AND ${num(c)} <= ${hi}` : ""}))`;
  return sql(run.out, `
    WITH raw AS (
      SELECT DISTINCT station_id, "timestamp" AS ts, "CO" AS co, "PM2.5" AS pm25, "PM10" AS pm10, "NO2" AS no2, "O3" AS o3, "T" AS t, "T. int." AS tint, "RH" AS rh
      FROM read_json('${rawGlob(run.out, "readings")}', format = 'newline_delimited', columns = {${cols}})
    ), valid AS (
      SELECT * FROM raw WHERE ${ok("co", 0)} AND ${ok("pm25", 0)} AND ${ok("pm10", 0)} AND ${ok("no2", 0)} AND ${ok("o3", 0)} AND ${ok("t")} AND ${ok("tint")} AND ${ok("rh", 0, 100)}
    )
    SELECT station_id, substr(ts, 1, 10) AS day, avg(${num("co")}) AS co_avg, avg(${num("pm25")}) AS pm25_avg, count(*) AS readings
    FROM valid GROUP BY 1, 2 ORDER BY 1, 2`);
}

async function pipelineAverages(): Promise<Row[]> {
  return sql(run.out, "SELECT station_id, CAST(day AS VARCHAR) AS day, co_avg, pm25_avg, readings FROM dataproducts.sensor_daily_averages ORDER BY station_id, day");
}

function assertSameAverages(actual: Row[], expected: Row[], label: string): void {
  assert.deepEqual(actual.map((r) => `${String(r.station_id)} ${String(r.day)} n=${Number(r.readings)}`), expected.map((r) => `${String(r.station_id)} ${String(r.day)} n=${Number(r.readings)}`), `${label}: station days / reading counts`);
  for (let i = 0; i < expected.length; i++) {
    for (const k of ["co_avg", "pm25_avg"]) {
      const a = actual[i][k] as number | null;
      const e = expected[i][k] as number | null;
      if (e === null) assert.equal(a, null, `${label} ${String(expected[i].day)} ${k}`);
      else assert.ok(a !== null && Math.abs(a - e) < 1e-9, `${label} ${String(expected[i].day)} ${k}: ${String(a)} != ${e}`);
    }
  }
}

test("airquality golden: run succeeds; hub.readings = distinct valid readings; counts add up", async () => {
  assertRunSucceeded(run.manifest);
  const indep = await independentAverages();
  const total = indep.reduce((s, r) => s + Number(r.readings), 0);
  const hub = await sql(run.out, "SELECT count(*) AS n, count(DISTINCT (station_id, timestamp)) AS d FROM hub.readings");
  assert.equal(Number(hub[0].n), total);
  assert.equal(Number(hub[0].d), total);
  const m = run.manifest.entities.readings;
  let sent = 0;
  for (let s = 0; s < SIZES.stations; s++) for (let h = 0; h < SIZES.readingsDays * 24; h++) sent += airQualityDuplicated(SEED, s, h) ? 2 : 1;
  assert.equal(m.fetched, sent);
  assert.ok(m.duplicates >= 2, "h == 17 is sent twice per station");
});

test("airquality golden: each out-of-range reading is dead-lettered with its own reason; declared \"n/a\" values are nulled and counted", async () => {
  const fields: [string, string, number | undefined, number | undefined][] = [
    ["co", "CO", 0, undefined], ["pm2_5", "PM2.5", 0, undefined], ["pm10", "PM10", 0, undefined], ["no2", "NO2", 0, undefined],
    ["o3", "O3", 0, undefined], ["t", "T", undefined, undefined], ["t_int", "T. int.", undefined, undefined], ["rh", "RH", 0, 100],
  ];
  const expected: string[] = [];
  let sentinels = 0;
  for (let s = 0; s < SIZES.stations; s++) {
    for (let h = 0; h < SIZES.readingsDays * 24; h++) {
      const r = airQualityReading(SEED, s, h) as unknown as Record<string, unknown>;
      const reasons: string[] = [];
      let nas = 0;
      for (const f of fields) {
        const v = r[f[1]];
        if (v === null || v === undefined) continue;
        if (v === "n/a" || v === -999) {
          nas++;
          continue;
        }
        if (typeof v === "string") reasons.push(`field "${f[0]}": expected number, got string ${JSON.stringify(v)}`);
        else if (f[2] !== undefined && (v as number) < f[2]) reasons.push(`field "${f[0]}": ${String(v)} is below minimum ${f[2]}`);
        else if (f[3] !== undefined && (v as number) > f[3]) reasons.push(`field "${f[0]}": ${String(v)} is above maximum ${f[3]}`);
      }
      const copies = airQualityDuplicated(SEED, s, h) ? 2 : 1;
      if (reasons.length === 0) {
        sentinels += nas * copies;
        continue;
      }
      for (let k = 0; k < copies; k++) expected.push(`${stationId(s)} ${String(r.timestamp)} ${reasons.join("; ")}`);
    }
  }
  // the positional mess is in there: h == 11 CO -1 per station; h == 13 PM10 "n/a" is a declared null value
  for (const st of [ABIDJAN, ROME]) {
    assert.ok(expected.includes(`${st} 2024-01-01 11:00:00 field "co": -1 is below minimum 0`));
    assert.ok(!expected.some((e) => e.startsWith(`${st} 2024-01-01 13:00:00`)));
  }
  assert.ok(sentinels >= SIZES.stations, "h == 13 PM10 \"n/a\", per station");
  assert.equal(run.manifest.entities.readings.sentinel_nulled, sentinels);
  const dead = lakeRows(run.out, "deadletter", "readings");
  const actual = dead.map((d) => {
    const p = JSON.parse(String(d.payload));
    assert.equal(d.stage, "validate");
    return `${String(p.station_id)} ${String(p.timestamp)} ${String(d.error)}`;
  });
  assert.deepEqual(actual.sort(), expected.sort());
  assert.equal(run.manifest.entities.readings.validate_failed, expected.length);
});

test("airquality golden: sensor_daily_averages of the Africa/Abidjan station = independent SQL average per day", async () => {
  const expected = (await independentAverages()).filter((r) => r.station_id === ABIDJAN);
  const actual = (await pipelineAverages()).filter((r) => r.station_id === ABIDJAN);
  assert.equal(expected.length, SIZES.readingsDays);
  // nulls are left out of the mean: day 1 has CO null at h == 5, so CO has one value fewer than readings
  assertSameAverages(actual, expected, ABIDJAN);
});

test("airquality golden: sensor_daily_averages of the Europe/Rome station groups its wall-clock timestamps by Rome day", async () => {
  const expected = (await independentAverages()).filter((r) => r.station_id === ROME);
  const actual = (await pipelineAverages()).filter((r) => r.station_id === ROME);
  assert.equal(expected.length, SIZES.readingsDays);
  assertSameAverages(actual, expected, ROME);
});
