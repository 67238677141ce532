import { test } from "node:test";
import * as assert from "node:assert/strict";
import { flattenRecord } from "../../transforms/flatten";

test("nested objects become underscore-joined columns, arrays JSON text", () => {
  const out = flattenRecord({ id: 1, vehicle: { id: "v1", gps: { lat: 1.5 } }, tags: ["a", "b"], meta: {}, gone: undefined, n: null });
  assert.deepEqual(out, { row: { id: 1, vehicle_id: "v1", vehicle_gps_lat: 1.5, tags: '["a","b"]', meta: null, n: null }, children: {} });
});

test("exploded arrays become child rows with the parent key and _index", () => {
  const out = flattenRecord(
    { id: 9, stops: [{ name: "A", at: { x: 1 } }, { name: "B", tags: [1] }], vehicle: { tags: ["t"] } },
    { explode: ["stops", "vehicle.tags"], parentKey: { trip_id: 9 } },
  );
  assert.deepEqual(out.row, { id: 9 });
  assert.deepEqual(out.children, {
    stops: [{ trip_id: 9, _index: 0, name: "A", at_x: 1 }, { trip_id: 9, _index: 1, name: "B", tags: "[1]" }],
    vehicle_tags: [{ trip_id: 9, _index: 0, value: "t" }],
  });
});

test("a joined name that already exists gets a suffix instead of overwriting", () => {
  assert.deepEqual(flattenRecord({ a_b: 1, a: { b: 2 } }).row, { a_b: 1, a_b_2: 2 });
});
