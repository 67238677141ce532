import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { utcDate, utcIso } from "../../model/utc-text";
import { formatUtc, formatUtcFields, toEpochMillis } from "../../sinks/serving-row";

const MAX_TIME = 8.64e15;
/** 0000-01-01 and 9999-12-31T23:59:59.999Z, the edges of the 4-digit-year fast path, and around them. */
const EDGES = [-62167219200000, 253402300799999];
const instant = fc.oneof(
  fc.integer({ min: -MAX_TIME, max: MAX_TIME }),
  fc.integer({ min: EDGES[0] - 2 * 86_400_000, max: EDGES[1] + 2 * 86_400_000 }),
  // Day boundaries and leap days of 1900-2100, where calendar arithmetic slips first.
  fc.tuple(fc.integer({ min: -25567, max: 47482 }), fc.integer({ min: -2, max: 2 })).map((t) => t[0] * 86_400_000 + t[1]),
);

test("utcIso and utcDate write exactly what toISOString writes", () => {
  const cases: [number, string][] = [
    [0, "1970-01-01T00:00:00.000Z"],
    [-1, "1969-12-31T23:59:59.999Z"],
    [Date.UTC(2024, 1, 29, 23, 59, 59, 7), "2024-02-29T23:59:59.007Z"],
    [Date.UTC(2000, 11, 31, 12), "2000-12-31T12:00:00.000Z"],
    [EDGES[0], "0000-01-01T00:00:00.000Z"],
    [EDGES[1], "9999-12-31T23:59:59.999Z"],
    [EDGES[1] + 1, "+010000-01-01T00:00:00.000Z"],
    [EDGES[0] - 1, "-000001-12-31T23:59:59.999Z"],
    [1.9, "1970-01-01T00:00:00.001Z"],
  ];
  for (const c of cases) {
    assert.equal(utcIso(c[0]), c[1], String(c[0]));
    assert.equal(utcDate(c[0]), c[1].slice(0, 10), String(c[0]));
  }
  assert.throws(() => utcIso(NaN), RangeError);
});

test("property: utcIso(ms) === new Date(ms).toISOString() and utcDate its first 10 characters", () => {
  fc.assert(fc.property(fc.oneof(instant, fc.double({ min: -MAX_TIME, max: MAX_TIME, noNaN: true })), (ms) => {
    const expected = new Date(ms).toISOString();
    assert.equal(utcIso(ms), expected);
    assert.equal(utcDate(ms), expected.slice(0, 10));
  }), { numRuns: 20000 });
});


test("property: formatUtc writes what the field-by-field formatter wrote, for any token pattern", () => {
  const pattern = fc.array(fc.constantFrom("yyyy", "MM", "dd", "HH", "mm", "ss", "SSS", "-", "/", "#", "T", " ", "x"), { maxLength: 8 }).map((p) => p.join(""));
  fc.assert(fc.property(fc.oneof(instant, fc.constantFrom(NaN, Infinity, MAX_TIME + 1)), pattern, (ms, p) => {
    assert.equal(formatUtc(ms, p), formatUtcFields(ms, p));
  }), { numRuns: 20000 });
  assert.equal(formatUtc(Date.UTC(2026, 0, 15, 10, 5, 9, 42), "yyyy-MM-dd"), "2026-01-15");
  assert.equal(formatUtc(Date.UTC(2026, 0, 15, 10, 5, 9, 42), "yyyyMMddHHmmssSSS"), "20260115100509042");
});

test("property: toEpochMillis accepts a date-only text exactly when it names a real day of years 0100-9999", () => {
  const text = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
    .map((t) => `${String(t[0]).padStart(4, "0")}-${String(t[1]).padStart(2, "0")}-${String(t[2]).padStart(2, "0")}`);
  fc.assert(fc.property(text, (value) => {
    const y = Number(value.slice(0, 4)), m = Number(value.slice(5, 7)), d = Number(value.slice(8, 10));
    const day = Date.UTC(y, m - 1, d);
    const real = y >= 100 && !Number.isNaN(day) && new Date(day).toISOString().slice(0, 10) === value;
    assert.deepEqual(toEpochMillis(value), real ? { ok: true, value: day } : { ok: false, reason: `invalid date: ${value}` });
  }), { numRuns: 5000 });
});
