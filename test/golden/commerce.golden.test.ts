import { test } from "node:test";
import * as assert from "node:assert/strict";
import { commerceCustomer, commerceCustomerSignup, commerceProduct, commerceSale, productPrice, type Customer } from "../../sources/demo-api";
import { SEED, runGolden, lakeRows, sql, rawGlob, assertRunSucceeded, dateInZone, type Row } from "./helpers";

const SIZES = { products: 45, customers: 300, sales: 250 };

/**
 * E.164 of the demo's phone shapes, written from the numbering plans (not libphonenumber):
 * FR mobiles 6x / 73-79 (9 national digits; 06 39 is not allocated in the ARCEP plan, so the
 * demo's "06 39 .." numbers are invalid), US NANP [2-9]xx [2-9]xx xxxx, London 20 3/7/8xxx xxxx.
 */
export function expectedE164(phone: unknown, country: string): string | null {
  if (typeof phone !== "string") return null;
  const text = phone.trim();
  const digits = text.replace(/\D/g, "");
  let national: string | undefined;
  if (country === "FR") {
    national = text.startsWith("+33") ? digits.slice(2) : digits.startsWith("0033") ? digits.slice(4) : digits.startsWith("0") ? digits.slice(1) : undefined;
    return national !== undefined && /^(6(?:[0-24-8]\d|3[0-8])|7[3-9]\d)\d{6}$/.test(national) ? "+33" + national : null;
  }
  if (country === "US") {
    national = text.startsWith("+1") ? digits.slice(1) : digits;
    return /^[2-9]\d{2}[2-9]\d{6}$/.test(national) ? "+1" + national : null;
  }
  national = text.startsWith("+44") ? digits.slice(2) : digits.startsWith("0") ? digits.slice(1) : undefined;
  return national !== undefined && /^20[378]\d{7}$/.test(national) ? "+44" + national : null;
}

/** The customer hub the API's stream implies: latest `updated_at` per id, position of first sight. */
function expectedCustomers(n: number) {
  const latest = new Map<string, { c: Customer; firstPos: number }>();
  const missingId: number[] = [];
  const notObject: number[] = [];
  for (let j = 0; j < n; j++) {
    const rec = commerceCustomer(SEED, j);
    if (typeof rec === "string") { notObject.push(j); continue; }
    if (rec.customer_id === undefined) { missingId.push(j); continue; }
    const cur = latest.get(rec.customer_id);
    if (cur === undefined) latest.set(rec.customer_id, { c: rec, firstPos: j });
    else if (rec.updated_at > cur.c.updated_at) latest.set(rec.customer_id, { c: rec, firstPos: cur.firstPos });
  }
  return { latest: latest, missingId: missingId, notObject: notObject };
}

test("commerce golden: hub.customers/products/sales and dead letters equal what the demo API's generators imply", async () => {
  const run = await runGolden("commerce", SIZES);
  assertRunSucceeded(run.manifest);
  const exp = expectedCustomers(SIZES.customers);
  assert.deepEqual(exp.missingId, [7, 257]);
  assert.deepEqual(exp.notObject, [13, 263]);
  const validCount = SIZES.customers - exp.missingId.length - exp.notObject.length;

  // ---- counts in the manifest
  const c = run.manifest.entities.customers;
  assert.equal(c.fetched, SIZES.customers);
  assert.equal(c.parse_failed, 2);
  assert.equal(c.validate_failed, 2);
  assert.equal(c.valid, validCount);
  assert.equal(c.kept, exp.latest.size);
  assert.equal(c.duplicates, validCount - exp.latest.size);
  assert.ok(c.duplicates >= 2, "the sizes must include duplicates (j % 100 == 50)");

  // ---- hub.customers row count = distinct valid ids, from the generators and from SQL on the raw lake
  const hub = await sql(run.out, "SELECT customer_id, first_name, last_name, email, phone, country, CAST(signup_date AS VARCHAR) AS signup_date, updated_at, phone_e164, phone_valid FROM hub.customers ORDER BY customer_id");
  assert.equal(hub.length, exp.latest.size);
  const rawDistinct = await sql(run.out, `SELECT count(DISTINCT customer_id) AS n, count(*) AS total FROM read_json_auto('${rawGlob(run.out, "customers")}', union_by_name = true)`);
  assert.equal(Number(rawDistinct[0].n), hub.length, "hub.customers rows != distinct customer ids in the raw lake");
  assert.equal(Number(rawDistinct[0].total), SIZES.customers - exp.notObject.length, "raw lake should hold every object record as fetched");

  // ---- every kept row is the latest version, with the E.164 phone and the normalized signup date
  const byFormat: Record<string, number> = {};
  for (const row of hub) {
    const e = exp.latest.get(String(row.customer_id));
    assert.ok(e, `unexpected customer ${String(row.customer_id)}`);
    const want = e.c;
    assert.equal(row.updated_at, new Date(want.updated_at).toISOString(), `${want.customer_id}: not the latest updated_at`);
    assert.equal(row.email, want.email, `${want.customer_id}: email of an older version`);
    assert.equal(row.last_name, want.last_name, `${want.customer_id}: last_name of an older version`);
    assert.equal(row.phone, want.phone, `${want.customer_id}: phone of an older version`);
    const e164 = expectedE164(want.phone, want.country);
    assert.equal(row.phone_e164, e164, `${want.customer_id}: phone ${JSON.stringify(want.phone)} (${want.country})`);
    assert.equal(row.phone_valid, e164 !== null, `${want.customer_id}: phone_valid`);
    const signup = commerceCustomerSignup(SEED, Number(want.customer_id!.slice(1)) - 1);
    assert.deepEqual(signup.value, want.signup_date);
    // Date-only inputs are the date as written; instants are the calendar day in Europe/Paris.
    const expected = signup.format === "iso_date" || signup.format === "dmy" ? signup.localDate : dateInZone(signup.format === "epoch_seconds" ? Math.floor(signup.epochMs / 1000) * 1000 : signup.epochMs, "Europe/Paris");
    assert.equal(row.signup_date, expected, `${want.customer_id}: signup_date ${JSON.stringify(want.signup_date)} (${signup.format})`);
    byFormat[signup.format] = (byFormat[signup.format] ?? 0) + 1;
  }
  for (const f of ["iso_date", "dmy", "iso_offset", "epoch_seconds", "rfc2822"]) assert.ok((byFormat[f] ?? 0) > 5, `too few customers with signup format ${f}`);

  // ---- a few hand-checked customers (values read off the generator output once)
  const one = (id: string) => hub.find((r) => r.customer_id === id)!;
  assert.equal(one("C000001").phone, "06 14 24 97 53");
  assert.equal(one("C000001").phone_e164, "+33614249753");
  assert.equal(one("C000001").signup_date, "2019-02-11");
  assert.equal(one("C000002").signup_date, "2019-12-07"); // "Sat, 07 Dec 2019 15:15:00 +0100"
  assert.equal(one("C000003").phone_e164, "+16175071564"); // "6175071564", country US
  // the position j % 250 == 3 / 5 / 9 phones ("12345", null, "") are kept as invalid, not dropped
  for (const id of ["C000004", "C000006", "C000010"]) {
    assert.equal(one(id).phone_e164, null, id);
    assert.equal(one(id).phone_valid, false, id);
  }

  // ---- a duplicate resolved to the latest updated_at (position 50 repeats an earlier customer)
  const dup = commerceCustomer(SEED, 50) as Customer;
  const dupRow = one(dup.customer_id!);
  assert.equal(dupRow.updated_at, new Date(exp.latest.get(dup.customer_id!)!.c.updated_at).toISOString());
  assert.ok(exp.latest.get(dup.customer_id!)!.c.updated_at >= dup.updated_at);

  // ---- dead letters: each bad customer with its own reason
  const dead = lakeRows(run.out, "deadletter", "customers");
  assert.equal(dead.length, 4);
  const missing = dead.filter((d) => d.stage === "validate");
  assert.deepEqual(missing.map((d) => d.error), ['missing required field "customer_id"', 'missing required field "customer_id"']);
  const payloads = missing.map((d) => JSON.parse(String(d.payload))).sort((a, b) => (a.updated_at < b.updated_at ? -1 : 1));
  assert.deepEqual(payloads, exp.missingId.map((j) => commerceCustomer(SEED, j)));
  const notObj = dead.filter((d) => d.stage === "parse");
  assert.equal(notObj.length, 2);
  for (const d of notObj) assert.match(String(d.error), /not a JSON object/);
  const rejected = notObj.map((d) => { const p = JSON.parse(String(d.payload)); return typeof p === "string" ? p : p.record; }).sort();
  assert.deepEqual(rejected, exp.notObject.map((j) => commerceCustomer(SEED, j)).sort());
  const errorTable = await sql(run.out, "SELECT stage, error FROM lake.customers_error_records ORDER BY stage, error");
  assert.deepEqual(errorTable.map((r) => r.stage), ["parse", "parse", "validate", "validate"]);

  // ---- products: price strings ("12.50") become numbers
  const products = await sql(run.out, "SELECT product_id, name, price FROM hub.products ORDER BY product_id");
  assert.equal(products.length, SIZES.products);
  const stringPriced: string[] = [];
  for (let i = 0; i < SIZES.products; i++) {
    const p = commerceProduct(SEED, i);
    if (typeof p.price === "string") stringPriced.push(p.product_id);
    assert.equal(products[i].product_id, p.product_id);
    assert.equal(products[i].name, p.name);
    assert.equal(products[i].price, productPrice(p), `${p.product_id}: price ${JSON.stringify(p.price)}`);
  }
  assert.ok(stringPriced.includes("P0004") && stringPriced.includes("P0044"));

  // ---- sales: quantity "many" -> wrong type; bare number -> not a JSON object
  const sales = await sql(run.out, "SELECT sale_id, quantity, amount FROM hub.sales ORDER BY sale_id");
  const wantSales: Row[] = [];
  const badQuantity: string[] = [];
  for (let j = 0; j < SIZES.sales; j++) {
    const s = commerceSale(SEED, j, SIZES.products, SIZES.customers);
    if (typeof s === "number") continue;
    if (typeof s.quantity !== "number") { badQuantity.push(s.sale_id); continue; }
    wantSales.push({ sale_id: s.sale_id, quantity: s.quantity, amount: s.amount });
  }
  assert.deepEqual(sales, wantSales);
  const salesDead = lakeRows(run.out, "deadletter", "sales");
  const wrongType = salesDead.filter((d) => d.stage === "validate");
  assert.deepEqual(wrongType.map((d) => JSON.parse(String(d.payload)).sale_id).sort(), badQuantity);
  for (const d of wrongType) assert.equal(d.error, 'field "quantity": expected integer, got string "many"');
  const bare = salesDead.filter((d) => d.stage === "parse");
  assert.equal(bare.length, 2);
  for (const d of bare) assert.match(String(d.error), /not a JSON object/);
  assert.equal(salesDead.length, 4);
});
