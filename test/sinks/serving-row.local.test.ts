import { test } from "node:test";
import * as assert from "node:assert/strict";
import type { ServingConfig } from "../../model/source-config";
import { buildServingRow, decodeCell, encodeCell, renderRowKey, reverseTimestamp } from "../../sinks/serving-row";
import type { CellEncoding } from "../../sinks/serving-row";
import type { CellValue } from "../../model/backends";

const hex = (value: CellValue, encoding: CellEncoding): string => {
  const r = encodeCell(value, encoding);
  if (!r.ok) throw new Error(r.reason);
  return Buffer.from(r.value).toString("hex");
};

test("row-key templates: plain fields, yyyyMMdd of dates and timestamps (UTC), reverse_ts", () => {
  const row = { issuer: "acme", day: "2026-01-05", at: "2026-01-05T23:30:00-02:00", naive: "2026-01-05 23:30:00", ms: 1767225600000 };
  assert.deepEqual(renderRowKey("{issuer}#{day:yyyyMMdd}", row), { ok: true, value: "acme#20260105" });
  assert.deepEqual(renderRowKey("{at:yyyyMMdd}", row), { ok: true, value: "20260106" });
  assert.deepEqual(renderRowKey("{naive:yyyyMMddHH}", row), { ok: true, value: "2026010523" });
  assert.deepEqual(renderRowKey("{ms:yyyy-MM-dd}", row), { ok: true, value: "2026-01-01" });
  assert.deepEqual(renderRowKey("{ms:reverse_ts}", row), { ok: true, value: String(9999999999999 - 1767225600000).padStart(13, "0") });
  assert.equal(reverseTimestamp(0), "9999999999999");
  assert.equal(reverseTimestamp(9999999999999 - 42), "0000000000042");
});

test("reverse_ts sorts newer timestamps first as strings", () => {
  const times = ["2026-01-15T08:00:00Z", "2026-01-15T08:00:00.001Z", "2027-03-01T00:00:00Z", "2001-09-09T01:46:40Z"];
  const keys = times.map((t) => {
    const k = renderRowKey("{t:reverse_ts}", { t: t });
    assert.ok(k.ok);
    return { t: t, k: k.ok ? k.value : "" };
  });
  const byKey = [...keys].sort((a, b) => (a.k < b.k ? -1 : 1)).map((x) => x.t);
  const newestFirst = [...times].sort((a, b) => Date.parse(b) - Date.parse(a));
  assert.deepEqual(byKey, newestFirst);
  assert.ok(keys.every((x) => x.k.length === 13));
});

test("row-key templates fail, naming the field, on missing fields, bad dates and unknown formats", () => {
  const bad = [
    renderRowKey("{issuer}#{day}", { day: "2026-01-05" }),
    renderRowKey("{day:yyyyMMdd}", { day: "05/01/2026" }),
    renderRowKey("{day:yyyyMMdd}", { day: "2026-13-45" }),
    renderRowKey("{day:yyyyMMdd}", { day: "2026-02-30T10:00:00Z" }),
    renderRowKey("{day:weekday}", { day: "2026-01-05" }),
    renderRowKey("{obj}", { obj: { a: 1 } }),
    renderRowKey("{long}", { long: "x".repeat(5000) }),
  ];
  bad.forEach((r, i) => assert.equal(r.ok, false, `case ${i} should fail`));
  assert.match(bad[0].ok ? "" : bad[0].reason, /issuer/);
  assert.match(bad[1].ok ? "" : bad[1].reason, /day/);
  assert.match(bad[4].ok ? "" : bad[4].reason, /weekday/);
});

test("encodings are the documented bytes: int64 8-byte big-endian, float64 IEEE-754, bool 1 byte, UTF-8 text and JSON", () => {
  assert.equal(hex(1, "int64"), "0000000000000001");
  assert.equal(hex(-1, "int64"), "ffffffffffffffff");
  assert.equal(hex("9223372036854775807", "int64"), "7fffffffffffffff");
  assert.equal(hex(258, "int64"), "0000000000000102");
  assert.equal(hex(1.5, "float64"), "3ff8000000000000");
  assert.equal(hex(-2, "float64"), "c000000000000000");
  assert.equal(hex(true, "bool"), "01");
  assert.equal(hex(false, "bool"), "00");
  assert.equal(hex("é", "string"), "c3a9");
  assert.equal(hex({ a: 1 }, "json"), Buffer.from('{"a":1}').toString("hex"));
});

test("every encoding decodes back to a typed value", () => {
  const cases: [CellValue, CellEncoding, CellValue][] = [
    [42, "int64", 42],
    ["-9223372036854775808", "int64", "-9223372036854775808"],
    ["17", "int64", 17],
    [Math.PI, "float64", Math.PI],
    ["2.5", "float64", 2.5],
    [true, "bool", true],
    ["false", "bool", false],
    ["日本 ✓", "string", "日本 ✓"],
    [12, "string", "12"],
    [[1, { b: null }], "json", [1, { b: null }]],
    ["plain", "json", "plain"],
  ];
  for (const c of cases) {
    const enc = encodeCell(c[0], c[1]);
    assert.ok(enc.ok, `${JSON.stringify(c[0])} as ${c[1]}`);
    assert.deepEqual(decodeCell(enc.ok ? enc.value : new Uint8Array(), c[1]), c[2]);
  }
});

test("values that do not fit their encoding are refused with a reason", () => {
  const bad: [CellValue, CellEncoding][] = [
    [1.5, "int64"], ["12a", "int64"], ["9223372036854775808", "int64"], [Number.MAX_SAFE_INTEGER + 2, "int64"],
    ["abc", "float64"], ["", "float64"], ["yes", "bool"], [1, "bool"], [{ a: 1 }, "string"], [[1], "string"],
  ];
  for (const b of bad) {
    const r = encodeCell(b[0], b[1]);
    assert.equal(r.ok, false, `${JSON.stringify(b[0])} as ${b[1]} should be refused`);
    assert.ok(!r.ok && r.reason.length > 0);
  }
});

test("buildServingRow maps fields to family:qualifier with typed values and skips absent fields", () => {
  const config: ServingConfig = {
    table: "invoices",
    rowKey: "{issuer}#{issued_at:yyyyMMdd}",
    families: { f: { maxVersions: 1 }, m: { maxVersions: 1 } },
    columns: { total: "f:total:float64", lines: "f:n:int64", note: "m:note:string", meta: "m:meta:json" },
  };
  const built = buildServingRow({ issuer: "acme", issued_at: "2026-01-15T10:00:00Z", total: 12.5, lines: "3", note: null, meta: { a: 1 } }, config);
  assert.deepEqual(built, {
    ok: true,
    value: {
      key: "acme#20260115",
      cells: {
        f: { total: { value: 12.5, encoding: "float64" }, n: { value: 3, encoding: "int64" } },
        m: { meta: { value: { a: 1 }, encoding: "json" } },
      },
    },
  });
  const bad = buildServingRow({ issuer: "acme", issued_at: "2026-01-15", total: "twelve" }, config);
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? "" : bad.reason, /total/);
});
