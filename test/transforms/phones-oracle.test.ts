import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";
import Module = require("module");
import * as fc from "fast-check";
import * as libphonenumber from "libphonenumber-js/max";
import { normalizePhone } from "../../transforms/phones";

/**
 * A second instance of libphonenumber-js/max whose `matchesEntirely` is the published one
 * (a new RegExp per call), i.e. the library without our patch (patches/libphonenumber-js+*.patch,
 * which compiles each metadata pattern once and replaces Babel's object spread by
 * `Object.assign`). The patched instance the project uses stays in the module cache untouched.
 */
function publishedLibphonenumber(): typeof libphonenumber {
  const root = path.dirname(require.resolve("libphonenumber-js/package.json")) + path.sep;
  const ours = (id: string) => id.startsWith(root);
  const saved = new Map<string, NodeJS.Module>();
  for (const id of Object.keys(require.cache)) {
    if (ours(id)) {
      saved.set(id, require.cache[id] as NodeJS.Module);
      delete require.cache[id];
    }
  }
  const helper = path.join(root, "build", "helpers", "matchesEntirely.js");
  const published = new Module(helper);
  published.filename = helper;
  published.loaded = true;
  published.exports = {
    __esModule: true,
    default: (text: string, pattern: string) => new RegExp("^(?:" + pattern + ")$").test(text || ""),
  };
  require.cache[helper] = published;
  try {
    return require("libphonenumber-js/max") as typeof libphonenumber;
  } finally {
    for (const id of Object.keys(require.cache)) if (ours(id)) delete require.cache[id];
    for (const entry of saved) require.cache[entry[0]] = entry[1];
  }
}

const oracle = publishedLibphonenumber();

/** The oracle's verdict: plain `parsePhoneNumberWithError(text, region).isValid()` and its E.164. */
function expected(text: string, region: string): { e164: string | null; valid: boolean } {
  try {
    const number = oracle.parsePhoneNumberWithError(text, region as libphonenumber.CountryCode);
    return number.isValid() ? { e164: number.number, valid: true } : { e164: null, valid: false };
  } catch {
    return { e164: null, valid: false };
  }
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const lead = fc.constantFrom("1", "2", "3", "4", "5", "6", "7", "8", "9");

/** National significant numbers of FR, US, GB, DE and IN shapes, valid and not (lengths around the real ones). */
const national: Record<string, fc.Arbitrary<string>> = {
  FR: fc.tuple(lead, digits(7, 9)).map((t) => t[0] + t[1]),
  US: fc.tuple(fc.constantFrom("2", "4", "6", "8", "9"), digits(2, 2), lead, digits(5, 7)).map((t) => t.join("")),
  GB: fc.tuple(lead, digits(7, 10)).map((t) => t[0] + t[1]),
  DE: fc.tuple(lead, digits(4, 12)).map((t) => t[0] + t[1]),
  IN: fc.tuple(fc.constantFrom("6", "7", "8", "9", "1", "2", "4"), digits(7, 10)).map((t) => t[0] + t[1]),
};
const CALLING: Record<string, string> = { FR: "33", US: "1", GB: "44", DE: "49", IN: "91" };
const TRUNK: Record<string, string> = { FR: "0", US: "", GB: "0", DE: "0", IN: "0" };

/** Digits cut into groups of 2-4 joined by one separator, optionally the first group in parentheses. */
function written(nsn: string, sep: string, cuts: number[], paren: boolean): string {
  const groups: string[] = [];
  let at = 0;
  for (const cut of cuts) {
    if (at >= nsn.length) break;
    groups.push(nsn.slice(at, at + cut));
    at += cut;
  }
  if (at < nsn.length) groups.push(nsn.slice(at));
  if (paren && groups.length > 1) groups[0] = "(" + groups[0] + ")";
  return groups.join(sep);
}

const REGIONS = ["FR", "US", "GB", "DE", "IN"];
const phoneCase = fc.constantFrom(...REGIONS).chain((country) =>
  fc.record({
    nsn: national[country],
    international: fc.boolean(),
    sep: fc.constantFrom("", " ", ".", "-"),
    cuts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
    paren: fc.boolean(),
    region: fc.oneof(fc.constant(country), fc.constantFrom(...REGIONS)),
  }).map((c) => ({
    text: c.international
      ? "+" + CALLING[country] + " " + written(c.nsn, c.sep, c.cuts, c.paren)
      : written(TRUNK[country] + c.nsn, c.sep, c.cuts, c.paren),
    region: c.region,
  })),
);

test("the oracle really is a separate, unpatched instance of libphonenumber-js", () => {
  assert.notEqual(oracle.parsePhoneNumberWithError, libphonenumber.parsePhoneNumberWithError);
  assert.deepEqual(expected("06 12 34 56 78", "FR"), { e164: "+33612345678", valid: true });
});

test("property: normalizePhone agrees with plain parsePhoneNumberWithError(...).isValid() of the published library", () => {
  let valid = 0;
  let invalid = 0;
  fc.assert(fc.property(phoneCase, (c) => {
    const want = expected(c.text, c.region);
    const got = normalizePhone(c.text, c.region);
    assert.deepEqual({ e164: got.e164, valid: got.valid }, want, `${c.text} in ${c.region}`);
    // Twice: a memoized answer must be the same as the first.
    assert.deepEqual(normalizePhone(c.text, c.region), got);
    if (want.valid) valid++;
    else invalid++;
  }), { numRuns: 4000 });
  // Both verdicts were exercised (generated shapes are mostly plausible, many not valid).
  assert.ok(valid > 400 && invalid > 400, `valid ${valid}, invalid ${invalid}`);
});

test("the bench's FR/US/GB shapes give the published library's E.164 and validity", () => {
  const cases: [string, string][] = [
    ["06 12 34 56 78", "FR"], ["+33 6 12 34 56 78", "FR"], ["06.12.34.56.78", "FR"],
    ["(212) 555-0100", "US"], ["212-734-0100", "US"], ["+1 212 734 0100", "US"],
    ["020 7946 0958", "GB"], ["+44 20 7946 0958", "GB"], ["(020) 7946 0958", "GB"],
    ["030 123456", "DE"], ["+49 30 1234567", "DE"], ["098765 43210", "IN"], ["+91 98765 43210", "IN"],
  ];
  for (const c of cases) {
    const got = normalizePhone(c[0], c[1]);
    assert.deepEqual({ e164: got.e164, valid: got.valid }, expected(c[0], c[1]), c[0]);
  }
  assert.deepEqual(normalizePhone("+1 212 734 0100", "US"), { e164: "+12127340100", valid: true });
});
