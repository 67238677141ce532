import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { keyOf, pickLatest } from "../../transforms/dedupe";
import type { Row } from "../../model/row";

const cfg = { primaryKey: ["id"], orderBy: "updated_at" };

test("the greatest orderBy wins, compared as instants and numbers", () => {
  const rows: Row[] = [
    { id: 1, updated_at: "2024-01-01T10:00:00+02:00", v: "a" }, // 08:00Z
    { id: 1, updated_at: "2024-01-01T09:00:00Z", v: "b" },
    { id: 2, updated_at: 9, v: "c" },
    { id: 2, updated_at: "10", v: "d" },
    { id: 3, updated_at: null, v: "e" },
    { id: 3, updated_at: "2020-01-01", v: "f" },
  ];
  const r = pickLatest(rows, cfg);
  assert.deepEqual(r.kept.map((x) => x.v), ["b", "d", "f"]);
  assert.equal(r.duplicates, 3);
});

test("ties: _ingested_at, then _payload_hash, greatest wins", () => {
  const base = { id: 1, updated_at: "2024-01-01T00:00:00Z" };
  const rows: Row[] = [
    { ...base, _ingested_at: "2024-01-02T00:00:00.000Z", _payload_hash: "aa", v: 1 },
    { ...base, _ingested_at: "2024-01-03T00:00:00.000Z", _payload_hash: "00", v: 2 },
    { ...base, _ingested_at: "2024-01-03T00:00:00.000Z", _payload_hash: "ff", v: 3 },
  ];
  assert.deepEqual(pickLatest(rows, cfg).kept.map((x) => x.v), [3]);
  assert.deepEqual(pickLatest(rows, { primaryKey: ["id"] }).kept.map((x) => x.v), [3]);
});

test("composite keys", () => {
  const r = pickLatest([{ a: 1, b: 2, n: 1 }, { a: 1, b: 3, n: 2 }, { a: 1, b: 2, n: 3 }], { primaryKey: ["a", "b"], orderBy: "n" });
  assert.deepEqual(r, { kept: [{ a: 1, b: 2, n: 3 }, { a: 1, b: 3, n: 2 }], duplicates: 1 });
});

const value = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom("2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", "x", "10", null), fc.boolean());
const row = fc.record({ id: fc.integer({ min: 0, max: 4 }), updated_at: value, _ingested_at: fc.constantFrom("2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"), _payload_hash: fc.constantFrom("a", "b"), v: fc.integer({ min: 0, max: 3 }) });

test("property: permutation-invariant winners; kept + duplicates = input", () => {
  fc.assert(fc.property(fc.array(row, { maxLength: 30 }).chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))), (pair) => {
    const a = pickLatest(pair[0], cfg);
    const b = pickLatest(pair[1], cfg);
    assert.equal(a.kept.length + a.duplicates, pair[0].length);
    const byId = (rs: Row[]) => [...rs].sort((x, y) => (x.id as number) - (y.id as number));
    assert.equal(JSON.stringify(byId(a.kept)), JSON.stringify(byId(b.kept)));
  }), { numRuns: 2000 });
});

test("ids beyond 2^53 are four keys, not two; big integer versions compare exactly", () => {
  const rows: Row[] = ["1234567890123456789", "1234567890123456790", "9007199254740993", "9007199254740992"].map((id) => ({ id: id }));
  const r = pickLatest(rows, { primaryKey: ["id"] });
  assert.deepEqual([r.kept.map((x) => x.id), r.duplicates], [["1234567890123456789", "1234567890123456790", "9007199254740993", "9007199254740992"], 0]);
  // the same wall of digits twice is a duplicate; its greatest version wins exactly
  const versions: Row[] = [
    { id: "9007199254740993", version: "1234567890123456790", v: "newest" },
    { id: "9007199254740993", version: "1234567890123456789", v: "older", _ingested_at: "2030-01-01T00:00:00.000Z" },
  ];
  for (const input of [versions, [...versions].reverse()]) {
    const latest = pickLatest(input, { primaryKey: ["id"], orderBy: "version" });
    assert.deepEqual([latest.kept.map((x) => x.v), latest.duplicates], [["newest"], 1]);
  }
});

test("property: keyOf is the JSON array of the key values (missing as null), whatever their type", () => {
  const value = fc.oneof(fc.string({ unit: "binary" }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }), fc.array(fc.string(), { maxLength: 3 }));
  fc.assert(fc.property(value, value, (a, b) => {
    assert.equal(keyOf({ id: a }, ["id"]), JSON.stringify([a === undefined ? null : a]));
    assert.equal(keyOf({ id: a, k: b }, ["id", "k"]), JSON.stringify([a === undefined ? null : a, b === undefined ? null : b]));
  }), { numRuns: 5000 });
  assert.equal(keyOf({ id: "C00000001" }, ["id"]), '["C00000001"]');
  assert.equal(keyOf({ id: "9007199254740993" }, ["id"]), '["9007199254740993"]');
});
