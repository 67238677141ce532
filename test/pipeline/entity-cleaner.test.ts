import { test } from "node:test";
import * as assert from "node:assert/strict";
import { entitySchema } from "../../model/source-config";
import { compileEntityCleaner, type RecordOrigin } from "../../pipeline/entity-cleaner";
import { entityCounts, manifestChecks } from "../../pipeline/manifest";

const origin: RecordOrigin = { runId: "r1", source: "/customers", page: "2", fetchedAt: "2026-01-01T10:00:00Z" };

const customers = entitySchema.parse({
  path: "/customers",
  primaryKey: ["customer_id"],
  fields: { customer_id: { type: "string", required: true }, age: { type: "integer", min: 0 }, signup_date: { type: "date" } },
  phones: { phone: { region: "FR" } },
  dates: { signup_date: { formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "date", required: true } },
});

test("the chain adds lineage, flattens, renames, validates, normalizes dates and phones", () => {
  const cleaner = compileEntityCleaner(customers, { maxRecordBytes: 10_000 });
  const result = cleaner.clean({ customer_id: 7, "Signup Date": "x", signup_date: "05/03/2024", phone: "06 12 34 56 78", address: { city: "Lyon" } }, origin);
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.row.customer_id, "7");
  assert.equal(result.row.signup_date, "2024-03-05");
  assert.equal(result.row.phone_e164, "+33612345678");
  assert.equal(result.row.phone_valid, true);
  assert.equal(result.row.address_city, "Lyon");
  assert.equal(result.row._run_id, "r1");
  assert.equal(result.row._page, "2");
  assert.equal(result.row._ingested_at, "2026-01-01T10:00:00.000Z");
  assert.match(String(result.row._payload_hash), /^[0-9a-f]{64}$/);
  assert.equal(result.raw.signup_date, "05/03/2024", "the raw row keeps the value as sent");
  assert.equal(result.newNames?.["Signup Date"], "signup_date_2");
  assert.equal(result.newNames?.["address_city"], "address_city");
  const again = cleaner.clean({ customer_id: 8, "Signup Date": "y", signup_date: "06/03/2024", phone: "", address: { city: "Paris" } }, origin);
  assert.equal(again.ok && again.newNames, undefined, "a key set seen before brings no new names");
});

test("each bad input fails at its stage with its own reason", () => {
  const cleaner = compileEntityCleaner(customers, { maxRecordBytes: 200 });
  const cases: { record: unknown; stage: string; reason: RegExp }[] = [
    { record: "just text", stage: "parse", reason: /^not a JSON object: got string$/ },
    { record: [1, 2], stage: "parse", reason: /^not a JSON object: got an array$/ },
    { record: { age: 3, signup_date: "2024-01-01" }, stage: "validate", reason: /^missing required field "customer_id"$/ },
    { record: { customer_id: "a", age: "old", signup_date: "2024-01-01" }, stage: "validate", reason: /^field "age": expected integer, got string "old"$/ },
    { record: { customer_id: "a", age: -1, signup_date: "2024-01-01" }, stage: "validate", reason: /^field "age": -1 is below minimum 0$/ },
    { record: { customer_id: "a", signup_date: "31/31/2024" }, stage: "normalize", reason: /^field "signup_date": unparseable date "31\/31\/2024"/ },
    { record: { customer_id: "a", signup_date: "2024-01-01", blob: "x".repeat(300) }, stage: "validate", reason: /^record is \d+ bytes, over the 200-byte limit$/ },
  ];
  for (const c of cases) {
    const result = cleaner.clean(c.record, origin);
    assert.equal(result.ok, false, JSON.stringify(c.record).slice(0, 60));
    if (result.ok) continue;
    assert.equal(result.stage, c.stage, JSON.stringify(c.record).slice(0, 60));
    assert.match(result.reason, c.reason);
  }
});

test("the manifest checks catch counts that do not add up", () => {
  const hub = { "a/hub_inserted": 3, "a/hub_updated": 2, "a/hub_unchanged": 1, "a/hub_older_ignored": 1 };
  const good = entityCounts({ "a/fetched": 10, "a/valid": 8, "a/validate_failed": 2, "a/kept": 7, "a/duplicates": 1, ...hub }, ["a"]);
  assert.ok(manifestChecks(good).every((c) => c.ok));
  const lost = entityCounts({ "a/fetched": 10, "a/valid": 7, "a/validate_failed": 2, "a/kept": 7, "a/duplicates": 1, ...hub }, ["a"]);
  assert.deepEqual(manifestChecks(lost).map((c) => c.ok), [false, false, true]);
  // A kept record the hub did not account for (neither written nor older-ignored) fails the hub check.
  const unaccounted = entityCounts({ "a/fetched": 10, "a/valid": 8, "a/validate_failed": 2, "a/kept": 7, "a/duplicates": 1, ...hub, "a/hub_older_ignored": 0 }, ["a"]);
  assert.deepEqual(manifestChecks(unaccounted).map((c) => c.ok), [true, true, false]);
  assert.equal(manifestChecks(unaccounted)[2].rule, "kept (7) = hub inserted (3) + updated (2) + unchanged (1) + older ignored (0)");
});

test("an unparseable optional date becomes null and is counted, the record is kept", () => {
  const entity = entitySchema.parse({ path: "/x", primaryKey: ["id"], dates: { seen_at: { formats: ["iso"] } } });
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
  const result = cleaner.clean({ id: 1, seen_at: "yesterday" }, origin);
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.row.seen_at, null);
  assert.equal(result.datesNulled, 1);
  const fine = cleaner.clean({ id: 2, seen_at: "2024-01-01T00:00:00Z" }, origin);
  assert.equal(fine.ok && fine.datesNulled, 0);
});

test("a record without its primary key is dead-lettered, never collapsed with others by dedupe", () => {
  const entity = entitySchema.parse({ path: "/x", primaryKey: ["customer_id"] });
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
  for (const record of [{ n: 2 }, { customer_id: null }, { customer_id: "" }]) {
    const result = cleaner.clean(record, origin);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.reason, 'missing primary key field "customer_id"');
  }
  assert.equal(cleaner.clean({ customer_id: 0 }, origin).ok, true);
});

test("key fields must be landed column names", () => {
  const bad = entitySchema.safeParse({ path: "/x", primaryKey: ["customerId"] });
  assert.equal(bad.success, false);
  if (!bad.success) assert.match(bad.error.issues[0].message, /landed column name/);
});
