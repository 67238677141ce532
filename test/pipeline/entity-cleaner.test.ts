import { test } from "node:test";
import * as assert from "node:assert/strict";
import { entitySchema } from "../../model/source-config";
import { compileEntityCleaner, primaryKeyOf, type RecordOrigin } from "../../pipeline/entity-cleaner";
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

const bigIds: unknown[] = ["1234567890123456789", "1234567890123456790", "9007199254740993", 9007199254740992];

test("ids beyond 2^53 stay exact and distinct: undeclared, declared integer, declared string", () => {
  for (const fields of [{}, { id: { type: "integer", required: true } }, { id: { type: "string", required: true } }]) {
    const entity = entitySchema.parse({ path: "/x", primaryKey: ["id"], fields: fields });
    const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
    const rows = bigIds.map((id) => cleaner.clean({ id: id, v: 1 }, origin));
    const ids = rows.map((r) => (r.ok ? r.row.id : r.reason));
    const expected = Object.keys(fields).length === 0 ? bigIds : ["1234567890123456789", "1234567890123456790", "9007199254740993", "9007199254740992"];
    assert.deepEqual(ids, expected, JSON.stringify(fields));
    const keys = rows.map((r) => (r.ok ? primaryKeyOf(r.row, ["id"]) : null));
    assert.equal(new Set(keys.map((k) => JSON.stringify(k))).size, 4, "four distinct dedupe keys");
    const hashes = rows.map((r) => (r.ok ? r.raw._payload_hash : ""));
    assert.equal(new Set(hashes).size, 4);
    assert.deepEqual(bigIds.map((id) => (cleaner.clean({ id: id, v: 1 }, origin) as { raw: Record<string, unknown> }).raw._payload_hash), hashes, "the hash is stable");
  }
});

test("a number primary key that would round is rejected; a number field that rounds counts precision_lost", () => {
  const entity = entitySchema.parse({ path: "/x", primaryKey: ["id"], fields: { id: { type: "number", required: true }, amount: { type: "number" } } });
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
  const bad = cleaner.clean({ id: "9007199254740993" }, origin);
  assert.deepEqual(bad.ok ? null : [bad.stage, bad.reason], ["validate", 'primary key field "id": 9007199254740993 does not fit a double exactly (declare it integer or string)']);
  const fine = cleaner.clean({ id: "12.5", amount: "1234567890123456789" }, origin);
  assert.equal(fine.ok, true);
  if (!fine.ok) return;
  assert.equal(fine.row.amount, 1234567890123456800);
  assert.equal(fine.raw.amount, "1234567890123456789", "the raw row keeps the value as sent");
  assert.deepEqual(fine.notes, { precision_lost: 1 });
});

test("sentinels and onInvalid: null in the chain keep the record valid, counted in notes", () => {
  const entity = entitySchema.parse({
    path: "/x", primaryKey: ["id"],
    fields: { id: { type: "string", required: true }, co: { type: "number", min: 0, nullValues: [-999, "n/a"] }, pm2_5: { type: "number", min: 0 }, rh: { type: "number", max: 100, onInvalid: "null" } },
  });
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
  const r = cleaner.clean({ id: "a", CO: -999, "PM2.5": 20, RH: 140 }, origin);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.deepEqual([r.row.co, r.row.pm2_5, r.row.rh], [null, 20, null]);
  assert.deepEqual(r.notes, { sentinel_nulled: 1, invalid_nulled: 1 });
  assert.equal(r.raw.CO, -999, "the raw row keeps the sentinel as sent");
  const plain = cleaner.clean({ id: "b", CO: 1 }, origin);
  assert.equal(plain.ok && plain.notes, undefined);
});

test("DST overlap in the chain: occurrences per page and station; a new page starts over", () => {
  const entity = entitySchema.parse({
    path: "/x", primaryKey: ["station_id", "timestamp"],
    fields: { station_id: { type: "string", required: true }, timestamp: { type: "timestamp", required: true } },
    dates: { timestamp: { formats: ["sql"], zone: "Europe/Rome", required: true } },
  });
  const cleaner = compileEntityCleaner(entity, { maxRecordBytes: 10_000 });
  const at = (station: string, ts: string, page: string) => {
    const r = cleaner.clean({ station_id: station, timestamp: ts }, Object.assign({}, origin, { page: page }));
    return r.ok ? String(r.row.timestamp) + (r.notes ? " " + JSON.stringify(r.notes) : "") : r.reason;
  };
  assert.deepEqual(
    [at("A", "2024-10-27 02:00:00", "1"), at("B", "2024-10-27 02:00:00", "1"), at("A", "2024-10-27 02:00:00", "1"), at("A", "2024-10-27 02:00:00", "2")],
    ["2024-10-27T00:00:00.000Z", "2024-10-27T00:00:00.000Z", '2024-10-27T01:00:00.000Z {"dst_overlap_later":1}', "2024-10-27T00:00:00.000Z"],
  );
  const gap = cleaner.clean({ station_id: "A", timestamp: "2024-03-31 02:30:00" }, origin);
  assert.deepEqual(gap.ok ? null : [gap.stage, gap.reason, gap.notes], ["normalize", 'field "timestamp": wall time 2024-03-31 02:30:00 does not exist in Europe/Rome (spring-forward gap)', { dst_gap_rejected: 1 }]);
});

test("the chain is total: a record that makes a step throw is an unprocessable failure, not an exception", () => {
  const cleaner = compileEntityCleaner(customers, { maxRecordBytes: 10_000 });
  const cyclic: Record<string, unknown> = { customer_id: "c" };
  cyclic.self = cyclic;
  const r1 = cleaner.clean(cyclic, origin);
  assert.equal(r1.ok, false);
  if (r1.ok) return;
  assert.equal(r1.stage, "normalize");
  // the lineage hash's canonical JSON recurses into the cycle first
  assert.equal(r1.reason, "unprocessable: Maximum call stack size exceeded");
  assert.match(String(r1.payload), /^\[not serializable as JSON: Converting circular structure/);
  assert.deepEqual(r1.notes, { unprocessable: 1 });
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 200_000; i++) deep = { d: deep };
  const r2 = cleaner.clean(Object.assign({ customer_id: "d" }, deep), origin);
  assert.deepEqual(r2.ok ? null : [r2.stage, r2.reason.slice(0, 50)], ["normalize", "unprocessable: Maximum call stack size exceeded"]);
  const r3 = cleaner.clean({ customer_id: "e", signup_date: "2024-01-01" }, Object.assign({}, origin, { fetchedAt: "not a time" }));
  assert.deepEqual(r3.ok ? null : [r3.stage, r3.reason], ["normalize", 'unprocessable: lineage: ingestedAt "not a time" is not a date']);
  const ok = cleaner.clean({ customer_id: "f", signup_date: "2024-01-01" }, origin);
  assert.equal(ok.ok, true, "the next record is cleaned as usual");
});

test("value options parse from YAML as written: a bare onInvalid: null means null, onGap defaults to reject", () => {
  const entity = entitySchema.parse({
    path: "/x", primaryKey: ["id"],
    fields: { rh: { type: "number", max: 100, onInvalid: null, nullValues: [-999, "n/a"] } },
    dates: { at: { formats: ["sql"], zone: "Europe/Rome" } },
  });
  assert.equal(entity.fields.rh.onInvalid, "null");
  assert.deepEqual(entity.fields.rh.nullValues, [-999, "n/a"]);
  assert.equal(entity.dates.at.onGap, undefined);
  assert.equal(entitySchema.safeParse({ path: "/x", primaryKey: ["id"], fields: { rh: { type: "number", onInvalid: "drop" } } }).success, false);
  assert.equal(entitySchema.safeParse({ path: "/x", primaryKey: ["id"], dates: { at: { formats: ["sql"], onGap: "later" } } }).success, false);
});
