import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { entitySchema } from "../../model/source-config";
import { inferType, widenTypes, type EntitySchema } from "../../model/entity-schema";
import { sourcePaths } from "../../transforms/source-paths";
import { compileConformer, compileLakeRenamer, mergeObservations, observeRecord, planSchema, type PathObservations } from "../../transforms/schema-contract";

const ids = { source: "s", entity: "e", runId: "r1" };
const entity = (extra: Record<string, unknown> = {}) => entitySchema.parse({ path: "/e", primaryKey: ["id"], fields: { id: { type: "integer", required: true } }, ...extra });

/** Plans one run over `records` (observations merged as the graph merges them). */
function planOf(records: Record<string, unknown>[], persisted?: EntitySchema, config = entity(), runId = "r1") {
  const observed: PathObservations = {};
  for (const r of records) mergeObservations(observed, observeRecord(r, config.explode));
  return planSchema(persisted, observed, config, { ...ids, runId: runId });
}

function land(records: Record<string, unknown>[], persisted?: EntitySchema, config = entity()) {
  const plan = planOf(records, persisted, config);
  const conform = compileConformer(plan, config.explode);
  return { plan: plan, rows: records.map((r) => conform(r)) };
}

test("sourcePaths: nested keys give dotted paths, a dot inside a key is escaped, nothing collides", () => {
  assert.deepEqual(sourcePaths({ a: { b: 1 }, a_b: 2 }), [["a.b", 1], ["a_b", 2]]);
  assert.deepEqual(sourcePaths({ a_b: 2, a: { b: 1 } }), [["a_b", 2], ["a.b", 1]]);
  assert.deepEqual(sourcePaths({ "a.b": 1, e: {}, t: [1, 2] }), [["a\\.b", 1], ["e", null], ["t", [1, 2]]]);
  assert.deepEqual(sourcePaths({ v: { tags: ["x"] }, id: 1 }, ["v.tags"]), [["id", 1]]);
  assert.deepEqual(sourcePaths({ _run_id: "r", x: 1 }, [], ["_run_id"]), [["x", 1]]);
});

test("issue 8: columnName and column_name land in fixed columns in every record order", () => {
  const a = { id: 1, columnName: "x1" };
  const b = { id: 2, columnName: "x2", column_name: "y2" };
  for (const records of [[a, b], [b, a]]) {
    const landed = land(records);
    assert.deepEqual(landed.plan.schema.columns.map((c) => [c.path, c.column, c.type]), [
      ["columnName", "column_name_2", "string"], ["column_name", "column_name", "string"], ["id", "id", "integer"],
    ]);
    assert.deepEqual(landed.plan.schema.collisions, [{ path: "columnName", wanted: "column_name", column: "column_name_2", taken_by: "column_name" }]);
    const rows = Object.fromEntries(landed.rows.map((r) => (r.ok ? [String(r.value.row.id), r.value.row] : ["bad", r.reason])));
    assert.deepEqual(rows["1"], { id: 1, column_name_2: "x1" });
    assert.deepEqual(rows["2"], { id: 2, column_name_2: "x2", column_name: "y2" });
  }
});

test("issue 8: nested a.b and flat a_b never swap columns, whatever the key order", () => {
  for (const records of [[{ id: 1, a: { b: 1 }, a_b: 2 }], [{ id: 1, a_b: 2, a: { b: 1 } }]]) {
    const landed = land(records);
    assert.deepEqual(landed.rows[0], { ok: true, value: { row: { id: 1, a_b: 2, a_b_2: 1 }, variantValues: 0, discardedValues: 0 } });
  }
});

test("a second run keeps the persisted columns even when it sees the other key first", () => {
  const first = planOf([{ id: 1, columnName: "x1" }]);
  assert.deepEqual(first.schema.columns.map((c) => [c.path, c.column]), [["columnName", "column_name"], ["id", "id"]]);
  const second = land([{ id: 2, column_name: "y2", columnName: "x2" }], first.schema);
  assert.deepEqual(second.plan.added, ["column_name"]);
  assert.deepEqual(second.plan.schema.columns.map((c) => [c.path, c.column, c.added_by]), [["columnName", "column_name", "r1"], ["column_name", "column_name_2", "r1"], ["id", "id", "r1"]]);
  assert.deepEqual(second.rows[0].ok && second.rows[0].value.row, { id: 2, column_name: "x2", column_name_2: "y2" });
});

test("inferType and widenTypes: integers (also beyond 2^53 as decimal strings), numbers, booleans, zoned timestamps, json", () => {
  const cases: [unknown, string | undefined][] = [
    [3, "integer"], [-7, "integer"], [2.5, "number"], [1e300, "number"], [true, "boolean"], ["9007199254740993", "integer"],
    ["9223372036854775807", "integer"], ["92233720368547758070", "string"], ["0012345678901234567", "string"], ["123", "string"],
    ["2024-03-30T10:00:00Z", "timestamp"], ["2024-03-30T10:00:00.5+01:00", "timestamp"], ["2024-03-30T10:00:00", "string"],
    ["2024-03-30", "string"], ["2024-13-45T10:00:00Z", "string"], [[1], "json"], [{ a: 1 }, "json"], [null, undefined],
  ];
  for (const c of cases) assert.equal(inferType(c[0]), c[1], JSON.stringify(c[0]));
  assert.equal(widenTypes(["integer", "number"]), "number");
  assert.equal(widenTypes(["number", "integer"]), "number");
  assert.equal(widenTypes(["timestamp", "string"]), "string");
  assert.equal(widenTypes(["integer", "boolean"]), "string");
  assert.equal(widenTypes(["json", "string"]), "json");
  assert.equal(widenTypes([]), undefined);
});

test("types are decided per run from every value, and declared types win", () => {
  const config = entity({ fields: { id: { type: "integer", required: true }, total: { type: "string" } } });
  const landed = land([{ id: 1, n: 1, total: 52.5, at: "2024-01-01T00:00:00Z", ok: true, tags: ["a"], never: null }, { id: 2, n: 2.5, total: 3 }], undefined, config);
  assert.deepEqual(landed.plan.schema.columns.map((c) => [c.path, c.type, c.declared]), [
    ["at", "timestamp", false], ["id", "integer", true], ["n", "number", false], ["ok", "boolean", false], ["tags", "json", false], ["total", "string", true],
  ]);
  assert.deepEqual(landed.rows[0].ok && landed.rows[0].value.row, { id: 1, n: 1, total: 52.5, at: "2024-01-01T00:00:00Z", ok: true, tags: ["a"] });
});

test("property: the plan does not depend on record order or on how observations were bundled", () => {
  const keys = fc.constantFrom("a", "A", "a_b", "aB", "x.y", "n", "_x");
  const value = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 3 }), fc.constant(null), fc.constant({ y: 1 }));
  const record = fc.dictionary(keys, value, { maxKeys: 5 });
  fc.assert(fc.property(fc.array(record, { maxLength: 8 }), fc.integer({ min: 1, max: 4 }), (records, cut) => {
    const whole = planOf(records);
    const reversed = planOf([...records].reverse());
    assert.deepEqual(reversed.schema, whole.schema);
    // Bundles observed separately and merged in reverse order.
    const parts: PathObservations[] = [];
    for (let i = 0; i < records.length; i += cut) {
      const o: PathObservations = {};
      for (const r of records.slice(i, i + cut)) mergeObservations(o, observeRecord(r, []));
      parts.push(o);
    }
    const merged: PathObservations = {};
    for (const p of parts.reverse()) mergeObservations(merged, p);
    assert.deepEqual(planSchema(undefined, merged, entity(), ids).schema, whole.schema);
    const columns = whole.schema.columns.map((c) => c.column);
    assert.equal(new Set(columns).size, columns.length, "one column per path");
  }));
});

test("newColumns: evolve adds the column; freeze and discard_row refuse naming the field; discard_value nulls and counts", () => {
  const first = planOf([{ id: 1, a: 1 }]).schema;
  const next = [{ id: 2, a: 2, b: "new" }, { id: 3, a: 3 }];
  const evolve = land(next, first);
  assert.deepEqual(evolve.plan.added, ["b"]);
  assert.deepEqual(evolve.rows.map((r) => r.ok && r.value.row), [{ id: 2, a: 2, b: "new" }, { id: 3, a: 3 }]);
  for (const mode of ["freeze", "discard_row"]) {
    const landed = land(next, first, entity({ schema: { newColumns: mode } }));
    assert.deepEqual(landed.plan.refusedPaths, ["b"]);
    assert.deepEqual(landed.rows[0], { ok: false, reason: `schema contract: new field "b" (schema.newColumns: ${mode})` });
    assert.deepEqual(landed.rows[1].ok && landed.rows[1].value.row, { id: 3, a: 3 });
  }
  const discard = land(next, first, entity({ schema: { newColumns: "discard_value" } }));
  assert.deepEqual(discard.rows[0], { ok: true, value: { row: { id: 2, a: 2 }, variantValues: 0, discardedValues: 1 } });
  // The first run establishes the schema whatever the contract.
  assert.deepEqual(land([{ id: 1, b: 1 }], undefined, entity({ schema: { newColumns: "freeze" } })).plan.added, ["b", "id"]);
});

test("typeChanges: evolve lands the value in <column>__v_<type>; freeze refuses; discard_value nulls; fitting types are no change", () => {
  const first = planOf([{ id: 1, a: 1, s: "x", f: 1.5 }]).schema;
  const next = [{ id: 2, a: "many", s: 5, f: 7 }];
  const evolve = land(next, first);
  assert.deepEqual(evolve.plan.addedVariants, [{ path: "a", type: "string", column: "a__v_string" }]);
  assert.deepEqual(evolve.rows[0], { ok: true, value: { row: { id: 2, a__v_string: "many", s: "5", f: 7 }, variantValues: 1, discardedValues: 0 } });
  assert.deepEqual(evolve.plan.schema.columns.find((c) => c.path === "a")?.variants, { string: "a__v_string" });
  const freeze = land(next, first, entity({ schema: { typeChanges: "freeze" } }));
  assert.deepEqual(freeze.rows[0], { ok: false, reason: 'schema contract: field "a" (column a, integer) got string "many" (schema.typeChanges: freeze)' });
  const discard = land(next, first, entity({ schema: { typeChanges: "discard_value" } }));
  assert.deepEqual(discard.rows[0], { ok: true, value: { row: { id: 2, a: null, s: "5", f: 7 }, variantValues: 0, discardedValues: 1 } });
});

test("collisions name the path holding the wanted column; a column declared later takes its declared type", () => {
  const plan = planOf([{ id: 1, "Total Amount": 1, total_amount: 2, "nested": { a_b: 1, a: { b: 2 } } }]);
  assert.deepEqual(plan.schema.collisions, [
    { path: "Total Amount", wanted: "total_amount", column: "total_amount_2", taken_by: "total_amount" },
    { path: "nested.a_b", wanted: "nested_a_b", column: "nested_a_b_2", taken_by: "nested.a.b" },
  ]);
  const declared = planOf([{ id: 2, total_amount: 3 }], plan.schema, entity({ fields: { id: { type: "integer" }, total_amount: { type: "number" } } }));
  assert.deepEqual(declared.schema.columns.find((c) => c.path === "total_amount"), { path: "total_amount", column: "total_amount", type: "number", declared: true, variants: {}, added_by: "r1" });
});

test("the raw lake table takes the plan's column for each top-level key; other keys are sanitized past them", () => {
  const plan = planOf([{ id: 1, columnName: "x", column_name: "y", "a.b": 1, a: { b: 2 } }]);
  const rename = compileLakeRenamer(plan);
  assert.deepEqual(rename({ _run_id: "r", columnName: "x", id: 1, "a.b": 1, a: { b: 2 }, never: null }), { _run_id: "r", column_name_2: "x", id: 1, a_b_2: 1, a: { b: 2 }, never: null });
  assert.deepEqual(rename({ A_B: { c: 1 }, id: 2 }), { a_b_3: { c: 1 }, id: 2 });
});
