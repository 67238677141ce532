import { test } from "node:test";
import * as assert from "node:assert/strict";
import type { WindowedValue } from "apache-beam/values";
import { entitySchema } from "../../model/source-config";
import { GlobalWindow } from "apache-beam/values";
import { openCleanStep, type CleanedElement } from "../../pipeline/clean-step";
import type { LastSeen } from "../../pipeline/tally";
import type { RestRecord } from "../../sources/rest/work-item";
import { mergeObservations, observeRecord, planSchema, type PathObservations } from "../../transforms/schema-contract";

// Hourly readings of stations in Rome over the autumn DST change: the wall time 02:00 occurs twice
// on 2024-10-27, so the cleaner counts occurrences per page - a page must stay on one thread.
const entity = entitySchema.parse({
  path: "/readings", primaryKey: ["station_id", "timestamp"],
  fields: { station_id: { type: "string", required: true }, timestamp: { type: "timestamp", required: true }, pm10: { type: "number", min: 0 } },
  dates: { timestamp: { formats: ["sql", "dd/MM/yyyy HH:mm"], zone: "Europe/Rome", required: true } },
  phones: { contact: { region: "IT" } },
});

/** 40 pages of 60 records: every 7th record bad in one of three ways, each page crossing the DST overlap twice. */
function records(): RestRecord[] {
  const out: RestRecord[] = [];
  for (let page = 1; page <= 40; page++) {
    for (let i = 0; i < 60; i++) {
      const n = page * 100 + i;
      const record: Record<string, unknown> = { station_id: `S${i % 5}`, timestamp: i % 2 ? "2024-10-27 02:00:00" : `26/10/2024 ${String(i % 24).padStart(2, "0")}:00`, pm10: n % 50, contact: i % 3 ? "06 1234 5678" : "+39 347 123 4567" };
      if (n % 7 === 0) [() => delete record.station_id, () => (record.timestamp = "31/31/2024 10:00"), () => (record.pm10 = -1)][n % 3]();
      out.push({ source: "air", entity: "readings", record: record, _source: "/readings", _page: String(page), fetched_at: "2026-11-29T10:00:00.000Z" });
    }
  }
  return out;
}

const last: LastSeen = { windows: [new GlobalWindow()], timestamp: 0 as never, pane: {} as never };

/** Every output of one bundle through a step with `workers` threads, the pool started after `inline` records. */
async function cleanAll(workers: number, inline: string): Promise<CleanedElement[]> {
  process.env.API2LAKE_CLEAN_INLINE_RECORDS = inline;
  try {
    const input = records();
    const observed: PathObservations = {};
    for (const r of input) mergeObservations(observed, observeRecord(r.record, entity.explode));
    const plan = planSchema(undefined, observed, entity, { source: "air", entity: "readings", runId: "r1" });
    const step = openCleanStep({ entityName: "readings", entity: entity, runId: "r1", maxRecordBytes: 10_000, workers: workers }, plan);
    const out: CleanedElement[] = [];
    for (const r of input) {
      const got = step.add(r, last);
      if (got !== undefined) out.push(...(await got));
    }
    const rest: WindowedValue<CleanedElement>[] = await step.finish();
    out.push(...rest.map((w) => w.value));
    // A dead letter's failed_at is the wall clock of the moment it was made.
    return out.map((e) => ("dead" in e ? { dead: { ...e.dead, failed_at: "-" } } : e));
  } finally {
    delete process.env.API2LAKE_CLEAN_INLINE_RECORDS;
  }
}

test("cleaning in worker threads gives the same outputs, in the same order, and the same tally as in place", async () => {
  const inPlace = await cleanAll(0, "0");
  const tally = (inPlace.find((e) => "tally" in e) as { tally: Record<string, number> }).tally;
  // The bad records as generated: n % 7 == 0, a bad date when n % 3 == 1, else a validation failure.
  const bad = records().map((r, index) => Number(r._page) * 100 + (index % 60)).filter((n) => n % 7 === 0);
  assert.equal(tally["readings/fetched"], 2400);
  assert.equal(tally["readings/normalize_failed"], bad.filter((n) => n % 3 === 1).length);
  assert.equal(tally["readings/validate_failed"], bad.filter((n) => n % 3 !== 1).length);
  assert.equal(tally["readings/valid"], 2400 - bad.length);
  assert.ok(tally["readings/dst_overlap_later"] > 0, "repeated wall times in the overlap were counted");
  assert.equal(inPlace.filter((e) => "clean" in e).length, 2400 - bad.length);
  assert.equal(inPlace.filter((e) => "dead" in e).length, bad.length);
  // Every batch in the pool from the first record; the pool after 150 records (mid-page: it waits for page 4).
  assert.deepEqual(await cleanAll(2, "0"), inPlace);
  assert.deepEqual(await cleanAll(2, "150"), inPlace);
  assert.deepEqual(await cleanAll(1, "0"), inPlace);
});
