import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseDateArg, parseDuration, parseRangeArgs, sliceParams, splitRange } from "../../sources/rest/slices";
import { advanceWatermark, planSlices, readState, recordBackfill, statePath, type TextStore } from "../../sources/rest/state";

const d = (s: string) => new Date(s);
const day = (n: number) => `2024-01-${String(n).padStart(2, "0")}T00:00:00.000Z`;

function memoryStore(): TextStore & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files: files,
    readText: async (p: string) => files.get(p),
    writeText: async (p: string, t: string) => void files.set(p, t),
  };
}

test("--from/--to accept ISO dates, ISO timestamps and dd/MM/yyyy", () => {
  assert.equal(parseDateArg("2024-03-01").date.toISOString(), "2024-03-01T00:00:00.000Z");
  assert.equal(parseDateArg("01/03/2024").date.toISOString(), "2024-03-01T00:00:00.000Z");
  assert.equal(parseDateArg("2024-03-01T06:30:00+02:00").date.toISOString(), "2024-03-01T04:30:00.000Z");
  assert.equal(parseDateArg("2024-03-01T06:30").date.toISOString(), "2024-03-01T06:30:00.000Z");
  assert.throws(() => parseDateArg("31/02/2024", "--to"), /--to: "31\/02\/2024" is not a real calendar date/);
  assert.throws(() => parseDateArg("March 1"), /--from: "March 1" is not a date; use yyyy-MM-dd/);
  const range = parseRangeArgs("01/01/2024", "2024-01-03");
  assert.equal(range.to.toISOString(), day(4), "a date-only --to includes its day");
  assert.throws(() => parseRangeArgs("2024-01-03", "2024-01-01"), /must be after/);
});

test("ranges split by the step; bounds written per format", () => {
  assert.equal(splitRange({ from: d(day(1)), to: d(day(4)) }, "P1D").length, 3);
  const hours = splitRange({ from: d(day(1)), to: d("2024-01-01T13:00:00Z") }, "PT6H");
  assert.deepEqual(hours.map((s) => s.end), ["2024-01-01T06:00:00.000Z", "2024-01-01T12:00:00.000Z", "2024-01-01T13:00:00.000Z"]);
  const months = splitRange({ from: d("2024-01-31T00:00:00Z"), to: d("2024-04-01T00:00:00Z") }, "P1M");
  assert.equal(months[0].end, "2024-02-29T00:00:00.000Z");
  assert.equal(parseDuration("P1W").days, 7);
  assert.throws(() => parseDuration("1D"), /not an ISO-8601 duration/);
  const slice = { start: day(1), end: day(2) };
  assert.deepEqual(sliceParams(slice, { startParam: "startTime", endParam: "endTime", format: "iso" }), { startTime: day(1), endTime: day(2) });
  assert.deepEqual(sliceParams(slice, { startParam: "from", endParam: "to", format: "date" }), { from: "2024-01-01", to: "2024-01-02" });
  assert.deepEqual(sliceParams(slice, { startParam: "s", format: "epoch_ms" }), { s: "1704067200000" });
});

test("normal runs: first run needs a start; second run after the watermark fetches nothing new", async () => {
  const store = memoryStore();
  let state = await readState(store, "fleet", "vehicle_stats");
  assert.throws(() => planSlices(undefined, state.watermark, state.fetched, { step: "P1D", now: d(day(4)) }), /no watermark yet/);
  const first = planSlices(undefined, state.watermark, state.fetched, { step: "P1D", now: d(day(4)), start: d(day(1)) });
  assert.equal(first.length, 3);
  assert.equal(store.files.size, 0, "planning writes nothing");
  state = await advanceWatermark(store, "fleet", "vehicle_stats", { slices: first, cursor: "2024-01-03T23:00:00Z" });
  assert.equal(state.watermark, day(4));
  assert.ok(store.files.has(statePath("fleet", "vehicle_stats")));
  const again = await readState(store, "fleet", "vehicle_stats");
  assert.deepEqual(planSlices(undefined, again.watermark, again.fetched, { step: "P1D", now: d(day(4)) }), []);
  assert.deepEqual(planSlices(undefined, again.watermark, again.fetched, { step: "P1D", now: d("2024-01-04T12:00:00Z") }), [
    { start: day(4), end: "2024-01-04T12:00:00.000Z" },
  ]);
  assert.equal(again.cursor, "2024-01-03T23:00:00Z");
});

test("a failed slice keeps the watermark before it", async () => {
  const store = memoryStore();
  const state = await advanceWatermark(store, "s", "e", { slices: [{ start: day(1), end: day(2) }, { start: day(3), end: day(4) }] });
  assert.equal(state.watermark, day(2));
});

test("backfill over a gap fetches exactly the gap and leaves the watermark alone", async () => {
  const store = memoryStore();
  await advanceWatermark(store, "s", "e", { slices: splitRange({ from: d(day(1)), to: d(day(5)) }, "P1D") });
  await recordBackfill(store, "s", "e", { slices: [{ start: day(8), end: day(10) }], cursor: 999 });
  const state = await readState(store, "s", "e");
  assert.equal(state.watermark, day(5));
  assert.equal(state.cursor, null, "a backfill does not move the cursor either");
  const plan = planSlices({ from: d(day(1)), to: d(day(10)) }, state.watermark, state.fetched, { step: "P1D" });
  assert.deepEqual(plan, [{ start: day(5), end: day(6) }, { start: day(6), end: day(7) }, { start: day(7), end: day(8) }]);
  const after = await recordBackfill(store, "s", "e", { slices: plan });
  assert.equal(after.watermark, day(5));
  assert.deepEqual(after.fetched, [{ start: day(1), end: day(10) }]);
  assert.deepEqual(planSlices({ from: d(day(1)), to: d(day(10)) }, after.watermark, after.fetched, { step: "P1D" }), []);
  const partial = planSlices({ from: d(day(9)), to: d(day(12)) }, null, after.fetched, { step: "P1D" });
  assert.deepEqual(partial, [{ start: day(10), end: day(11) }, { start: day(11), end: day(12) }]);
});

test("a corrupt state file is an error naming it", async () => {
  const store = memoryStore();
  store.files.set("state/s/e.json", "{oops");
  await assert.rejects(readState(store, "s", "e"), /state\/s\/e\.json: state file is not valid JSON/);
});
