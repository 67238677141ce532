import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { executeRun } from "../../pipeline/run";
import { loadSourceConfig } from "../../sources/rest/config-loader";
import { coerceValue, inferType, observedType, INTEGER_TEXT_BIT, typeBit } from "../../model/entity-schema";
import { json, startServer } from "../rest/helpers";
import { sql } from "../golden/helpers";

test("number text: decimal text infers number, integer text is decided per path, IDs and codes stay text", () => {
  const cases: [unknown, string | undefined][] = [
    ["52.5", "number"], ["-0.25", "number"], ["123", "string"], ["007.5", "string"], ["1.2345678901234567", "string"], ["1e3", "string"],
  ];
  for (const c of cases) assert.equal(inferType(c[0]), c[1], JSON.stringify(c[0]));
  assert.equal(observedType(INTEGER_TEXT_BIT), "string");
  assert.equal(observedType(INTEGER_TEXT_BIT | typeBit("number")), "number");
  assert.equal(observedType(INTEGER_TEXT_BIT | typeBit("integer")), "integer");
  assert.equal(observedType(INTEGER_TEXT_BIT | typeBit("boolean")), "string");
  assert.equal(coerceValue("52.5", "number"), 52.5);
  assert.equal(coerceValue("7", "number"), 7);
  assert.equal(coerceValue("9007199254740993", "integer"), "9007199254740993");
  assert.equal(coerceValue(7, "string"), "7");
});

function config(url: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "types-"));
  const file = path.join(dir, "shop.yaml");
  fs.writeFileSync(file, [
    "name: shop", `baseUrl: ${url}`, "entities:", "  orders:", "    path: /orders", '    recordsPath: ""', "    primaryKey: [id]",
    "    fields:", "      ref: { type: string }", "",
  ].join("\n"));
  return file;
}

test("undeclared fields land typed in the hub, the same way on the next run; declared types win", async () => {
  let body: unknown[] = [
    { id: 1, total: "52.5", amount: 7.25, qty: 3, ref: "100", code: "0612", paid: true, at: "2024-03-01T10:00:00Z" },
    { id: 2, total: "7", amount: 8, qty: "4", ref: "101", code: "0613", paid: false, at: "2024-03-02T10:00:00+01:00" },
  ];
  const server = await startServer((_req, res) => json(res, body));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "types-out-"));
  try {
    const source = loadSourceConfig(config(server.url));
    const options = { out: out, runner: "direct" as const, sink: "local" as const, requestConcurrency: 1 };
    const first = await executeRun({ sources: [source], entities: "ALL", options: options });
    assert.equal(first.status, "succeeded", first.errors.join("; "));
    const types = "SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = 'hub' AND table_name = 'orders' AND column_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY column_name";
    const expectedTypes = [
      { c: "amount", t: "DOUBLE" }, { c: "at", t: "TIMESTAMP" }, { c: "code", t: "VARCHAR" }, { c: "id", t: "BIGINT" },
      { c: "paid", t: "BOOLEAN" }, { c: "qty", t: "BIGINT" }, { c: "ref", t: "VARCHAR" }, { c: "total", t: "DOUBLE" },
    ];
    assert.deepEqual(await sql(out, types), expectedTypes);
    const rows = "SELECT id, total, amount, qty, ref, code, paid FROM hub.orders ORDER BY id";
    assert.deepEqual(await sql(out, rows), [
      { id: 1, total: 52.5, amount: 7.25, qty: 3, ref: "100", code: "0612", paid: true },
      { id: 2, total: 7, amount: 8, qty: 4, ref: "101", code: "0613", paid: false },
    ]);
    // Next run: integer text alone would plan as text, but the persisted schema keeps `total` a number.
    body = [{ id: 3, total: "8", amount: 1, qty: "5", ref: "102", code: "0614", paid: true, at: "2024-03-03T10:00:00Z" }];
    const second = await executeRun({ sources: [source], entities: "ALL", options: options });
    assert.equal(second.status, "succeeded", second.errors.join("; "));
    assert.deepEqual(await sql(out, types), expectedTypes);
    assert.deepEqual(await sql(out, "SELECT id, total, qty FROM hub.orders WHERE id = 3"), [{ id: 3, total: 8, qty: 5 }]);
  } finally {
    await server.close();
  }
});
