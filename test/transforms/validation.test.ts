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
