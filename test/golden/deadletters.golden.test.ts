import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import { commerceCustomer, commerceCustomerSignup, type Customer } from "../../sources/demo-api";
import { SEED, runGolden, lakeRows, sql, assertRunSucceeded, type GoldenRun } from "./helpers";

const SIZES = { customers: 300, products: 1, sales: 1 };

/**
 * A copy of the commerce preset whose customers must have a signup date in iso, dd/MM/yyyy or
 * epoch seconds (RFC 2822, which the API also sends, is left out), with a small record limit.
 */
const edit = (limit: number) => (yaml: string): string => {
  const before = "signup_date: { formats: [iso, dd/MM/yyyy, epoch_s, rfc2822], zone: Europe/Paris, output: date }";
  assert.ok(yaml.includes(before), "presets/commerce.yaml changed: update this test's edit");
  return yaml
    .replace(before, "signup_date: { formats: [iso, dd/MM/yyyy, epoch_s], zone: Europe/Paris, output: date, required: true }")
    .replace("rateLimit: 200", `rateLimit: 200\nmaxRecordBytes: ${limit}`);
};

let run: GoldenRun;
let limit = 0;
let valid = 0;
const expected: string[] = [];
let actual: string[] = [];

before(async () => {
  // A limit between the customers' sizes, so some (not all) are over it.
  const sizes: number[] = [];
  for (let j = 0; j < SIZES.customers; j++) {
    const c = commerceCustomer(SEED, j);
    if (typeof c !== "string") sizes.push(Buffer.byteLength(JSON.stringify(c), "utf8"));
  }
  limit = [...sizes].sort((a, b) => a - b)[Math.floor(sizes.length * 0.9)];

  for (let j = 0; j < SIZES.customers; j++) {
    const c = commerceCustomer(SEED, j);
    if (typeof c === "string") { expected.push(`parse not-object ${JSON.stringify(c)}`); continue; }
    const bytes = Buffer.byteLength(JSON.stringify(c), "utf8");
    const key = c.customer_id ?? `(no id) ${c.updated_at}`;
    if (bytes > limit) expected.push(`oversize ${key} ${bytes}`);
    else if (c.customer_id === undefined) expected.push(`missing ${key}`);
    else if (commerceCustomerSignup(SEED, Number(c.customer_id.slice(1)) - 1).format === "rfc2822") expected.push(`date ${key} ${JSON.stringify(c.signup_date)}`);
    else valid++;
  }
  for (const kind of ["parse", "oversize", "missing", "date"]) assert.ok(expected.some((e) => e.startsWith(kind)), `no expected ${kind} dead letter at these sizes`);

  run = await runGolden("commerce", SIZES, { edit: edit(limit), entities: "customers" });
  const dead = lakeRows(run.out, "deadletter", "customers");
  actual = dead.map((d) => {
    const error = String(d.error);
    const raw = JSON.parse(String(d.payload)) as unknown;
    if (/not a JSON object/.test(error)) {
      const rec = typeof raw === "string" ? raw : (raw as { record: unknown }).record;
      return `parse not-object ${JSON.stringify(rec)}`;
    }
    const p = (typeof raw === "object" && raw !== null && "record" in raw ? (raw as { record: unknown }).record : raw) as Customer;
    const key = p.customer_id ?? `(no id) ${p.updated_at}`;
    // (the cleaning step checks the size, for every source)
    const over = /^record is (\d+) bytes, over the (\d+)-byte limit(?: \(page \S+\))?$/.exec(error);
    if (over) {
      assert.equal(Number(over[2]), limit);
      return `oversize ${key} ${over[1]}`;
    }
    if (error === 'missing required field "customer_id"') {
      assert.equal(d.stage, "validate");
      return `missing ${key}`;
    }
    assert.match(error, /signup_date/, `unexpected reason: ${error}`);
    assert.ok(error.includes(String(p.signup_date)), `the reason should show the unparseable value: ${error}`);
    assert.equal(d.stage, "normalize");
    return `date ${key} ${JSON.stringify(p.signup_date)}`;
  });
  actual.sort();
  expected.sort();
});

const withoutBytes = (list: string[]) => list.map((e) => e.replace(/^(oversize \S+) \d+$/, "$1"));

test("dead letters golden: oversize records, missing ids, unparseable required dates and non-objects each get their own reason", async () => {
  assertRunSucceeded(run.manifest);
  assert.deepEqual(withoutBytes(actual), withoutBytes(expected));
  const m = run.manifest.entities.customers;
  assert.equal(m.fetched, SIZES.customers);
  assert.equal(m.valid, valid);
  assert.equal(m.normalize_failed, expected.filter((e) => e.startsWith("date")).length);
  const hub = await sql(run.out, "SELECT count(*) AS n FROM hub.customers WHERE signup_date IS NULL");
  assert.equal(Number(hub[0].n), 0, "a required date may not land as null");
  const errors = await sql(run.out, "SELECT count(*) AS n FROM lake.customers_error_records");
  assert.equal(Number(errors[0].n), expected.length);
});

test("dead letters golden: an oversize record's reason gives its size in UTF-8 bytes", () => {
  // Names like "Chloé" / "Müller" take more bytes than characters.
  assert.deepEqual(actual.filter((e) => e.startsWith("oversize")), expected.filter((e) => e.startsWith("oversize")));
});
