import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { normalizePhone, applyPhones, writePhones } from "../../transforms/phones";

test("normalizes FR, US and UK formats to E.164", () => {
  const cases: [unknown, string, string][] = [
    ["+33 6 12 34 56 78", "FR", "+33612345678"],
    ["06 12 34 56 78", "FR", "+33612345678"],
    ["0033612345678", "FR", "+33612345678"],
    ["0033612345678", "US", "+33612345678"],
    ["(415) 555-0132", "US", "+14155550132"],
    ["4157771234", "US", "+14157771234"],
    [4157771234, "US", "+14157771234"],
    ["+1 415-777-1234", "FR", "+14157771234"],
    ["020 7946 0958", "GB", "+442079460958"],
    ["+44 (0)20 7946 0958", "FR", "+442079460958"],
    ["07911 123456", "GB", "+447911123456"],
  ];
  for (const c of cases) assert.deepEqual(normalizePhone(c[0], c[1]), { e164: c[2], valid: true }, String(c[0]));
});

test("empty, null and garbage give e164 null, valid false and a reason", () => {
  const cases: [unknown, string, string][] = [
    [null, "FR", "empty"],
    [undefined, "FR", "empty"],
    ["   ", "FR", "empty"],
    ["n/a", "FR", "not a phone number"],
    [{ n: 1 }, "FR", "not a phone number: object"],
    ["123", "FR", "impossible number for FR"],
    ["06 12 34 56 78", "XX", 'unknown region "XX"'],
    ["+1 555 0000", "US", "impossible number for +1"],
    ["1".repeat(120), "FR", "too long"],
  ];
  for (const c of cases) {
    const r = normalizePhone(c[0], c[1]);
    assert.equal(r.e164, null, String(c[0]));
    assert.equal(r.valid, false);
    assert.equal(r.reason, c[2], String(c[0]));
  }
  assert.match(normalizePhone("01 00 00 00 00", "US").reason ?? "", /^(not a valid|impossible) number for/);
});

test("applyPhones adds _e164 and _valid; a row's country code overrides the region", () => {
  const phones = { phone: { region: "FR" } };
  assert.deepEqual(applyPhones({ id: 1, phone: "06 12 34 56 78" }, phones), { id: 1, phone: "06 12 34 56 78", phone_e164: "+33612345678", phone_valid: true });
  assert.deepEqual(applyPhones({ phone: "(415) 555-0132", country: "us" }, phones).phone_e164, "+14155550132");
  assert.deepEqual(applyPhones({ phone: "020 7946 0958", country: "UK" }, phones).phone_e164, "+442079460958");
  assert.equal(applyPhones({ phone: "06 12 34 56 78", country: "France" }, phones).phone_e164, "+33612345678");
  assert.equal(applyPhones({ phone: "(415) 555-0132", country: "US" }, phones, { countryField: null }).phone_valid, false);
  assert.deepEqual(applyPhones({}, phones), { phone_e164: null, phone_valid: false });
});

const phoneLike = fc.oneof(
  fc.string(),
  fc.stringMatching(/^\+?[0-9 ().-]{0,20}$/),
  fc.constantFrom("+33 6 12 34 56 78", "06 12 34 56 78", "0033612345678", "(415) 555-0132", "4157771234", "020 7946 0958"),
  fc.integer(),
  fc.constant(null),
);

test("property: never throws; valid => E.164 shape; idempotent on its own output", () => {
  fc.assert(fc.property(phoneLike, fc.constantFrom("FR", "US", "GB", "DE", "XX"), (raw, region) => {
    const r = normalizePhone(raw, region);
    assert.equal(r.valid, r.e164 !== null);
    if (r.valid) {
      assert.match(r.e164 as string, /^\+[1-9]\d{6,14}$/);
      for (const other of ["FR", "US", "GB"]) assert.deepEqual(normalizePhone(r.e164, other), r);
    } else assert.ok(r.reason && r.reason.length > 0);
  }), { numRuns: 2000 });
});

test("numbers written with letters read them as E.161 keypad digits, as Google's libphonenumber does", () => {
  const cases: [string, string, string][] = [
    ["1-800-GET-DATA", "US", "+18004383282"],
    ["+1 888 BUS 1253", "US", "+18882871253"],
    ["1 (800) get-data", "US", "+18004383282"],
    ["+1-800-FLOWERS", "FR", "+18003569377"],
    ["1-888-bus-1253", "US", "+18882871253"],
  ];
  for (const c of cases) assert.deepEqual(normalizePhone(c[0], c[1]), { e164: c[2], valid: true }, c[0]);
  // fewer than three letters is not a lettered number (libphonenumber's VALID_ALPHA_PHONE_PATTERN)
  assert.equal(normalizePhone("1-800-438-32AB", "US").valid, false);
  // an extension marker's letters are not digits: the number without them stays valid
  assert.deepEqual(normalizePhone("+1 415 555 2671 ext. 123", "US"), { e164: "+14155552671", valid: true });
});

test("digits of any script are read as ASCII digits", () => {
  const cases: [string, string, string][] = [
    ["٠٦ ١٢ ٣٤ ٥٦ ٧٨", "FR", "+33612345678"], // Arabic-Indic (libphonenumber-js parseDigits)
    ["۰۶۱۲۳۴۵۶۷۸", "FR", "+33612345678"], // Eastern Arabic-Indic / Persian
    ["０６ １２ ３４ ５６ ７８", "FR", "+33612345678"], // fullwidth
    ["+९१ ९८७६५ ४३२१०", "IN", "+919876543210"], // Devanagari (Unicode Nd runs)
    ["+৯১ ৯৮৭৬৫ ৪৩২১০", "IN", "+919876543210"], // Bengali
    ["๐๖ ๑๒ ๓๔ ๕๖ ๗๘", "FR", "+33612345678"], // Thai
    ["+𝟑𝟑 𝟔 𝟏𝟐 𝟑𝟒 𝟓𝟔 𝟕𝟖", "FR", "+33612345678"], // mathematical bold digits (astral plane)
  ];
  for (const c of cases) assert.deepEqual(normalizePhone(c[0], c[1]), { e164: c[2], valid: true }, c[0]);
});

test("writePhones adds the columns to the row itself, reading every value before writing any", () => {
  const row: Record<string, unknown> = { phone: "06 12 34 56 78", phone_e164: "+1 415 555 0132", country: "FR" };
  const out = writePhones(row, { phone: { region: "FR" }, phone_e164: { region: "US" } });
  assert.equal(out, row);
  assert.deepEqual(row, {
    phone: "06 12 34 56 78", country: "FR",
    phone_e164: "+33612345678", phone_valid: true,
    phone_e164_e164: "+14155550132", phone_e164_valid: true,
  });
  const input = { phone: "06 12 34 56 78" };
  assert.deepEqual(applyPhones(input, { phone: { region: "FR" } }), { phone: "06 12 34 56 78", phone_e164: "+33612345678", phone_valid: true });
  assert.deepEqual(input, { phone: "06 12 34 56 78" }, "applyPhones leaves its input alone");
});
