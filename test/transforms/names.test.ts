import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { sanitizeName, buildNameMapping, renameFields, createRenamer } from "../../transforms/names";

test("sanitizeName examples", () => {
  const cases: Record<string, string> = {
    "PM2.5": "pm2_5", "T. int.": "t_int", "Job Title": "job_title", camelCase: "camel_case", updatedAtTime: "updated_at_time",
    "Key Skills": "key_skills", CO: "co", "1st place": "_1st_place", "": "_", "***": "_", "__x__": "x", "Prénom": "prenom",
    HTTPServer: "http_server", "vehicle.id": "vehicle_id", "already_clean": "already_clean",
  };
  for (const input of Object.keys(cases)) assert.equal(sanitizeName(input), cases[input], input);
});

test("buildNameMapping: clean names keep theirs, the other gets _2, whatever the order", () => {
  assert.deepEqual(buildNameMapping(["a b", "a_b"]), { a_b: "a_b", "a b": "a_b_2" });
  assert.deepEqual(buildNameMapping(["a_b", "a b"]), { a_b: "a_b", "a b": "a_b_2" });
  assert.deepEqual(buildNameMapping(["A B", "a b", "a_b_2"]), { "A B": "a_b", "a b": "a_b_3", a_b_2: "a_b_2" });
  assert.deepEqual(buildNameMapping(["_run_id", "Run Id"]), { _run_id: "_run_id", "Run Id": "run_id" });
});

test("renameFields keeps lineage columns and sanitizes unknown keys without collisions", () => {
  const row = { "Customer ID": 1, _payload_hash: "h", "customer id": 2 };
  assert.deepEqual(renameFields(row, { "Customer ID": "customer_id" }), { customer_id: 1, _payload_hash: "h", customer_id_2: 2 });
  assert.deepEqual(createRenamer()({ "Job Title": "x", jobTitle: "y" }), { job_title: "x", job_title_2: "y" });
});

const names = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("a b", "a_b", "A B", "a_b_2", "PM2.5", "pm2_5", "_run_id", "x", "X")), { maxLength: 12 });

test("property: sanitizeName is idempotent and yields [a-z0-9_] only", () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const once = sanitizeName(s);
    assert.match(once, /^[a-z0-9_]+$/);
    assert.equal(sanitizeName(once), once);
  }));
});

test("property: buildNameMapping is deterministic, order-independent, collision-free, idempotent", () => {
  fc.assert(fc.property(names, fc.integer(), (list, seed) => {
    const m = buildNameMapping(list);
    const shuffled = [...list].sort((a, b) => ((a + seed).length % 3) - ((b + seed).length % 3) || (a < b ? 1 : -1));
    assert.deepEqual(buildNameMapping(shuffled), m);
    const targets = Object.values(m);
    assert.equal(new Set(targets).size, targets.length);
    for (const t of targets) assert.ok(/^[a-z0-9_]+$/.test(t));
    const again = buildNameMapping(targets);
    for (const t of targets) assert.equal(again[t], t);
  }));
});
