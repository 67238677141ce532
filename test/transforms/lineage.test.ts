import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "crypto";
import { canonicalJson, payloadHash, withLineage, withLineageSized, lineageFor } from "../../transforms/lineage";

test("canonical JSON sorts keys at every depth and drops undefined members", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson([undefined, "x"]), '[null,"x"]');
});

test("payloadHash is sha256 hex of the canonical JSON and ignores key order", () => {
  const expected = crypto.createHash("sha256").update('{"a":1,"b":"é"}').digest("hex");
  assert.equal(payloadHash({ b: "é", a: 1 }), expected);
  assert.equal(payloadHash({ a: 1, b: "é" }), expected);
  assert.match(payloadHash("x"), /^[0-9a-f]{64}$/);
  assert.notEqual(payloadHash({ a: 1 }), payloadHash({ a: "1" }));
});

test("withLineage adds the five columns, UTC ISO with ms, page as text", () => {
  const row = withLineage({ id: 7 }, { runId: "r1", source: "/commerce/customers", page: 3, ingestedAt: "2026-11-22T11:15:00+01:00" });
  assert.deepEqual(row, {
    id: 7,
    _ingested_at: "2026-11-22T10:15:00.000Z",
    _run_id: "r1",
    _source: "/commerce/customers",
    _page: "3",
    _payload_hash: payloadHash({ id: 7 }),
  });
  assert.equal(lineageFor([1], { runId: "r", source: "/s", page: "c1", ingestedAt: 0 })._ingested_at, "1970-01-01T00:00:00.000Z");
  assert.throws(() => lineageFor({}, { runId: "r", source: "/s", page: 1, ingestedAt: "nope" }), /not a date/);
});

/** Canonical JSON by its recursive definition (sorted keys, undefined members left out): the oracle. */
function reference(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map((x) => (x === undefined ? "null" : reference(x))).join(",") + "]";
  const o = v as Record<string, unknown>;
  return "{" + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ":" + reference(o[k])).join(",") + "}";
}

test("property: the flat fast path of canonicalJson equals the recursive definition", async () => {
  const fc = await import("fast-check");
  fc.assert(fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null))), fc.dictionary(fc.string(), fc.integer()))), (o) => {
    assert.equal(canonicalJson(o), reference(o));
  }), { numRuns: 2000 });
});

test("big integer ids (exact decimal text from the lossless reader) hash exactly as sent, stably", () => {
  const ids = ["1234567890123456789", "1234567890123456790", "9007199254740993", "9007199254740992"];
  const hashes = ids.map((id) => payloadHash({ id: id, v: 1 }));
  assert.equal(new Set(hashes).size, 4);
  assert.equal(hashes[0], crypto.createHash("sha256").update('{"id":"1234567890123456789","v":1}', "utf8").digest("hex"));
  assert.deepEqual(ids.map((id) => payloadHash({ v: 1, id: id })), hashes, "key order does not matter");
  assert.notEqual(payloadHash({ id: 9007199254740992 }), payloadHash({ id: "9007199254740992" }), "a number and a text are different payloads");
});

test("canonicalJson tells apart shapes whose keys join alike (a key holding NUL) and repeated shapes in any order", () => {
  // ["a\u0000b"] and ["a", "b"] join to the same text: the shape memo must not mix them up.
  assert.equal(canonicalJson({ "a\u0000b": 1 }), '{"a\\u0000b":1}');
  assert.equal(canonicalJson({ a: 2, b: 3 }), '{"a":2,"b":3}');
  assert.equal(canonicalJson({ "a\u0000b": 1 }), '{"a\\u0000b":1}');
  assert.equal(canonicalJson({ b: 3, a: 2 }), '{"a":2,"b":3}');
  assert.equal(canonicalJson({ a: 2, b: 3 }), '{"a":2,"b":3}');
  // Members dropped (undefined, functions) and the comma placement around them.
  assert.equal(canonicalJson({ a: undefined, b: () => 1, c: 1, d: undefined }), '{"c":1}');
  assert.equal(canonicalJson({ a: undefined }), "{}");
  // Strings are quoted as JSON.stringify quotes them (escapes, lone surrogates); non-finite numbers are null.
  assert.equal(canonicalJson(["a\"b", "\\", "\n\u0001", "\ud800", "😀", "\u2028", -0, NaN, -Infinity, 1e21, 5e-7]), JSON.stringify(["a\"b", "\\", "\n\u0001", "\ud800", "😀", "\u2028", -0, NaN, -Infinity, 1e21, 5e-7]));
  assert.equal(canonicalJson({ z: new Date(0), y: [undefined, () => 1, { b: 1, a: 2 }] }), '{"y":[null,null,{"a":2,"b":1}],"z":"1970-01-01T00:00:00.000Z"}');
});

test("property: canonicalJson and payloadHash stay exact past the shape memo's limit (many shapes, nested)", async () => {
  const fc = await import("fast-check");
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.string(), fc.string({ unit: "binary" }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
      fc.array(tie("value")), fc.dictionary(fc.string({ unit: "binary" }), tie("value"))),
  })).value;
  fc.assert(fc.property(fc.dictionary(fc.string({ unit: "binary" }), json, { maxKeys: 12 }), (o) => {
    const text = reference(o);
    assert.equal(canonicalJson(o), text);
    assert.equal(payloadHash(o), crypto.createHash("sha256").update(text, "utf8").digest("hex"));
  }), { numRuns: 3000 });
});

test("property: withLineageSized is withLineage plus the UTF-8 size of JSON.stringify(record), for any JSON record", async () => {
  const fc = await import("fast-check");
  const ctx = { runId: "r1", source: "/s", page: 4, ingestedAt: "2026-11-22T10:15:00Z" };
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.string({ unit: "binary" }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(), fc.constant(null), fc.array(tie("value")), fc.dictionary(fc.string({ unit: "binary" }), tie("value"))),
  })).value;
  fc.assert(fc.property(fc.dictionary(fc.string({ unit: "binary" }), json, { maxKeys: 10 }), (record) => {
    // What a reader hands over: a parsed JSON document.
    const raw = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
    const sized = withLineageSized(raw, ctx);
    assert.equal(sized.bytes, Buffer.byteLength(JSON.stringify(raw), "utf8"));
    assert.deepEqual(sized.row, withLineage(raw, ctx));
  }), { numRuns: 2000 });
  assert.deepEqual(withLineageSized({ b: "é", a: 1 }, ctx).bytes, Buffer.byteLength('{"b":"é","a":1}'));
  assert.throws(() => withLineageSized({}, { ...ctx, ingestedAt: "nope" }), /not a date/);
});
