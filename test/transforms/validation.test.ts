import { test } from "node:test";
import * as assert from "node:assert/strict";
import { validateRow, parseRecord } from "../../transforms/validation";
import type { FieldConfig } from "../../model/source-config";

const fields: Record<string, FieldConfig> = {
  customer_id: { type: "string", required: true },
  quantity: { type: "integer", required: false },
  price: { type: "number", required: false, min: 0 },
  CO: { type: "number", required: false, min: 0, max: 50 },
  active: { type: "boolean", required: false },
  name: { type: "string", required: false, maxLength: 5 },
};
const opts = { maxRecordBytes: 1_000_000 };

test("valid rows are coerced: numeric strings, integral strings, ids, booleans", () => {
  const r = validateRow({ customer_id: 42, quantity: "3", price: "12.50", active: "TRUE", extra: { x: 1 } }, fields, opts);
  assert.deepEqual(r, { ok: true, value: { customer_id: "42", quantity: 3, price: 12.5, active: true, extra: { x: 1 }, CO: null, name: null } });
});

test("each bad input has its specific reason", () => {
  const cases: [unknown, string][] = [
    [[1, 2], "not a JSON object"],
    [null, "not a JSON object"],
    ["text", "not a JSON object"],
    [{}, 'missing required field "customer_id"'],
    [{ customer_id: null }, 'missing required field "customer_id"'],
    [{ customer_id: "c", quantity: "many" }, 'field "quantity": expected integer, got string "many"'],
    [{ customer_id: "c", quantity: 1.5 }, 'field "quantity": expected integer, got number 1.5'],
    [{ customer_id: "c", CO: -1 }, 'field "CO": -1 is below minimum 0'],
    [{ customer_id: "c", CO: "51" }, 'field "CO": 51 is above maximum 50'],
    [{ customer_id: "c", price: "1,5" }, 'field "price": expected number, got string "1,5"'],
    [{ customer_id: "c", price: "NaN" }, 'field "price": expected number, got string "NaN"'],
    [{ customer_id: "c", active: "yes" }, 'field "active": expected boolean, got string "yes"'],
    [{ customer_id: { a: 1 } }, 'field "customer_id": expected string, got object'],
    [{ customer_id: "c", name: "toolong" }, 'field "name": 7 characters, over the maximum length 5'],
    [{ quantity: "x" }, 'missing required field "customer_id"; field "quantity": expected integer, got string "x"'],
  ];
  for (const c of cases) assert.deepEqual(validateRow(c[0], fields, opts), { ok: false, reason: c[1] }, JSON.stringify(c[0]));
});

test("oversize records are rejected with their size", () => {
  const row = { customer_id: "c", blob: "x".repeat(1_000_000) };
  assert.deepEqual(validateRow(row, fields, opts), { ok: false, reason: "record is 1000029 bytes, over the 1000000-byte limit" });
  assert.deepEqual(validateRow({ customer_id: "c" }, fields, { maxRecordBytes: 10, bytes: 1234567 }), { ok: false, reason: "record is 1234567 bytes, over the 10-byte limit" });
});

test("parseRecord: malformed JSON and non-objects", () => {
  assert.deepEqual(parseRecord('{"a":1}'), { ok: true, value: { a: 1 } });
  const bad = parseRecord('{"a":');
  assert.equal(bad.ok, false);
  assert.match((bad as { reason: string }).reason, /^malformed JSON: /);
  assert.deepEqual(parseRecord("[1]"), { ok: false, reason: "not a JSON object" });
});

test("validation does not mutate its input", () => {
  const row = { customer_id: 1, quantity: "2" };
  validateRow(row, fields, opts);
  assert.deepEqual(row, { customer_id: 1, quantity: "2" });
});

test("record size: the cheap bound never under-estimates, the exact size equals Buffer.byteLength", () => {
  const tiny = { maxRecordBytes: 20 };
  const row = { customer_id: "é😀\u0000" };
  const bytes = Buffer.byteLength(JSON.stringify(row), "utf8");
  assert.deepEqual(validateRow(row, fields, tiny), bytes > 20 ? { ok: false, reason: `record is ${bytes} bytes, over the 20-byte limit` } : { ok: true, value: row });
  const nested = { customer_id: "c", n: { s: "ü".repeat(30) } };
  assert.deepEqual(validateRow(nested, fields, { maxRecordBytes: 50 }), { ok: false, reason: `record is ${Buffer.byteLength(JSON.stringify(nested))} bytes, over the 50-byte limit` });
});

test("integer fields keep integers beyond 2^53 exactly, as decimal text, and reject what int64 cannot hold", () => {
  const f: Record<string, FieldConfig> = { id: { type: "integer", required: true } };
  const cases: [unknown, unknown][] = [
    ["1234567890123456789", "1234567890123456789"],
    ["1234567890123456790", "1234567890123456790"],
    ["9007199254740993", "9007199254740993"],
    [9007199254740992, "9007199254740992"],
    ["9007199254740991", 9007199254740991],
    ["-9223372036854775808", "-9223372036854775808"],
    ["9223372036854775807", "9223372036854775807"],
    [" +001234567890123456789.000 ", "1234567890123456789"],
    [42, 42],
  ];
  for (const c of cases) assert.deepEqual(validateRow({ id: c[0] }, f, opts), { ok: true, value: { id: c[1] } }, String(c[0]));
  assert.deepEqual(validateRow({ id: "9223372036854775808" }, f, opts), { ok: false, reason: 'field "id": 9223372036854775808 is outside the int64 range' });
  assert.deepEqual(validateRow({ id: "-99999999999999999999" }, f, opts), { ok: false, reason: 'field "id": -99999999999999999999 is outside the int64 range' });
  assert.deepEqual(validateRow({ id: 1e300 }, f, opts), { ok: false, reason: 'field "id": 1e+300 is outside the int64 range' });
  assert.deepEqual(validateRow({ id: "12.5" }, f, opts), { ok: false, reason: 'field "id": expected integer, got string "12.5"' });
});

test("a number field given a decimal no double holds lands the nearest double and counts precision_lost", () => {
  const f: Record<string, FieldConfig> = { v: { type: "number", required: false } };
  const cases: [string, number, number][] = [
    ["1234567890123456789", 1234567890123456800, 1],
    ["9007199254740993", 9007199254740992, 1],
    ["9007199254740992", 9007199254740992, 0],
    ["0.1", 0.1, 0],
    ["12.50", 12.5, 0],
    ["1e3", 1000, 0],
    ["0.30000000000000000001", 0.3, 1],
    ["-0.000", -0, 0],
  ];
  for (const c of cases) {
    const counts: Record<string, number> = {};
    assert.deepEqual(validateRow({ v: c[0] }, f, opts, counts), { ok: true, value: { v: c[1] } }, c[0]);
    assert.deepEqual(counts, c[2] ? { precision_lost: c[2] } : {}, c[0]);
  }
});

test("declared null values become null and are counted; a required field with one is rejected", () => {
  const f: Record<string, FieldConfig> = {
    station_id: { type: "string", required: true, nullValues: ["n/a"] },
    CO: { type: "number", required: false, min: 0, nullValues: [-999, "n/a"] },
    PM25: { type: "number", required: false, min: 0, nullValues: [-999, "n/a"] },
  };
  const counts: Record<string, number> = {};
  assert.deepEqual(validateRow({ station_id: "s1", CO: -999, PM25: 20 }, f, opts, counts), { ok: true, value: { station_id: "s1", CO: null, PM25: 20 } });
  assert.deepEqual(validateRow({ station_id: "s1", CO: "-999", PM25: " n/a " }, f, opts, counts), { ok: true, value: { station_id: "s1", CO: null, PM25: null } });
  assert.deepEqual(counts, { sentinel_nulled: 3 });
  // -998 is not declared: out of range, rejected as before
  assert.deepEqual(validateRow({ station_id: "s1", CO: -998 }, f, opts, counts), { ok: false, reason: 'field "CO": -998 is below minimum 0' });
  assert.deepEqual(validateRow({ station_id: "n/a" }, f, opts, counts), { ok: false, reason: 'missing required field "station_id": string "n/a" is a declared null value' });
  assert.deepEqual(counts, { sentinel_nulled: 3 }, "a rejected record adds no counts");
});

test("onInvalid: null nulls a wrong or out-of-range value and counts it; reject (the default) keeps rejecting", () => {
  const f: Record<string, FieldConfig> = {
    id: { type: "string", required: true, onInvalid: "null" },
    rh: { type: "number", required: false, min: 0, max: 100, onInvalid: "null" },
    n: { type: "integer", required: false, onInvalid: "null" },
    t: { type: "number", required: false },
  };
  const counts: Record<string, number> = {};
  assert.deepEqual(validateRow({ id: "a", rh: 140, n: "many", t: 3 }, f, opts, counts), { ok: true, value: { id: "a", rh: null, n: null, t: 3 } });
  assert.deepEqual(validateRow({ id: "a", rh: "wet", n: "99999999999999999999" }, f, opts, counts), { ok: true, value: { id: "a", rh: null, n: null, t: null } });
  assert.deepEqual(counts, { invalid_nulled: 4 });
  assert.deepEqual(validateRow({ id: "a", t: "hot" }, f, opts), { ok: false, reason: 'field "t": expected number, got string "hot"' });
  assert.deepEqual(validateRow({ id: { x: 1 } }, f, opts), { ok: false, reason: 'field "id": expected string, got object' }, "a required field is never nulled");
});
