/**
 * Commerce preset: products, customers and sales. Record i is a pure function of (seed, i).
 *
 * Mess, by stream position j (0-based) of the customers stream:
 * - j % 250 === 7: a customer without `customer_id`;
 * - j % 250 === 13: not an object (a bare string);
 * - j % 100 === 50, plus about 2% of other positions >= 20: a duplicate of an earlier
 *   customer (same `customer_id`, later `updated_at`, sometimes one changed field);
 * - phones in many national/international formats; j % 250 === 3 -> "12345",
 *   j % 250 === 5 -> null, j % 250 === 9 -> "" (plus ~3% random invalid ones);
 * - `signup_date` in five formats (see SIGNUP_FORMATS).
 * Sales: j % 200 === 11 has `quantity: "many"`, j % 200 === 17 is a bare number.
 * Products: about 5% of prices, and every i % 40 === 3, are strings like "12.50".
 */
import { rngFor, unitOf, type Rng } from "../random";
import { FIRST_NAMES, LAST_NAMES, asciiSlug, isoUtcSeconds, isoWithOffset, pad, rfc2822, round2, wallClock } from "./common";

export const COMMERCE_EPOCH_MS = Date.UTC(2024, 0, 1);

export type Country = "FR" | "US" | "GB";

export interface Product {
  product_id: string;
  name: string;
  category: string;
  price: number | string;
  updated_at: string;
}

export interface Customer {
  customer_id?: string;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
  country: Country;
  signup_date: string | number;
  updated_at: string;
}

export interface Sale {
  sale_id: string;
  customer_id: string;
  product_id: string;
  quantity: number | string;
  amount: number;
  sold_at: string;
}

// ---------------------------------------------------------------- products

const CATALOG: Record<string, readonly string[]> = {
  Books: ["Novel", "Cookbook", "Atlas", "Notebook", "Comic"],
  Electronics: ["Headphones", "Charger", "Keyboard", "Speaker", "Webcam"],
  Garden: ["Hose", "Rake", "Planter", "Seeds Pack", "Gloves"],
  Kitchen: ["Kettle", "Pan", "Knife Set", "Blender", "Mug"],
  Sports: ["Yoga Mat", "Football", "Water Bottle", "Racket", "Helmet"],
  Toys: ["Puzzle", "Robot", "Kite", "Board Game", "Teddy Bear"],
};
const CATEGORIES = Object.keys(CATALOG);
const ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Pro", "Smart", "Vintage", "Ultra", "Mini", "Family"];

export const productId = (i: number): string => "P" + pad(i + 1, 4);

/** Product i (0-based); its id is `P0001` for i = 0. */
export function commerceProduct(seed: number, i: number): Product {
  const r = rngFor(seed, "commerce.product", i);
  const category = r.pick(CATEGORIES);
  const name = `${r.pick(ADJECTIVES)} ${r.pick(CATALOG[category])}`;
  const priceNumber = r.int(199, 49999) / 100;
  const asString = r.chance(0.05) || i % 40 === 3;
  const updated = COMMERCE_EPOCH_MS + i * 3_600_000 + r.int(0, 3_599) * 1000;
  return {
    product_id: productId(i),
    name: name,
    category: category,
    price: asString ? priceNumber.toFixed(2) : priceNumber,
    updated_at: isoUtcSeconds(updated),
  };
}

/** The product's price as a number, whatever type the record carries. */
export const productPrice = (p: Product): number => (typeof p.price === "number" ? p.price : Number(p.price));

// ---------------------------------------------------------------- customers

export type CustomerKind = "normal" | "duplicate" | "missing_id" | "not_object";

export const CUSTOMER_DUPLICATE_RATE = 0.02;

/** What stream position j of the customers stream holds (independent of the stream's size). */
export function customerKind(seed: number, j: number): CustomerKind {
  if (j % 250 === 7) return "missing_id";
  if (j % 250 === 13) return "not_object";
  if (j >= 20 && (j % 100 === 50 || unitOf(seed, "commerce.customer.dup", j) < CUSTOMER_DUPLICATE_RATE)) return "duplicate";
  return "normal";
}

/** Resolves position k back to a "normal" position holding a well-formed customer. */
function normalAtOrBefore(seed: number, k: number): number {
  let p = k;
  for (;;) {
    const kind = customerKind(seed, p);
    if (kind === "normal") return p;
    if (kind === "duplicate") return customerDuplicateOf(seed, p);
    p -= 1; // malformed positions are never 0..6, so this stops
  }
}

/** For a duplicate at position j: the normal position whose customer it repeats. */
export function customerDuplicateOf(seed: number, j: number): number {
  const r = rngFor(seed, "commerce.customer.dupOf", j);
  return normalAtOrBefore(seed, j - 1 - r.int(0, Math.min(j - 1, 300)));
}

/** The `customer_id` of the customer first seen at (normal) position p: `C000001` for p = 0. */
export const customerId = (p: number): string => "C" + pad(p + 1, 6);

export const SIGNUP_FORMATS = ["iso_date", "dmy", "iso_offset", "epoch_seconds", "rfc2822"] as const;
export type SignupFormat = (typeof SIGNUP_FORMATS)[number];

export interface Signup {
  /** The instant (10:00-ish local time on the signup day). */
  epochMs: number;
  /** The local calendar day, `YYYY-MM-DD`. */
  localDate: string;
  offsetMinutes: number;
  format: SignupFormat;
  value: string | number;
}

/** A rough offset for the country on that date (summer time April-October). */
function countryOffset(country: Country, epochMs: number): number {
  const month = new Date(epochMs).getUTCMonth() + 1;
  const summer = month >= 4 && month <= 10;
  if (country === "FR") return summer ? 120 : 60;
  if (country === "GB") return summer ? 60 : 0;
  return summer ? -240 : -300;
}

function signupOf(r: Rng, country: Country): Signup {
  const dayMs = Date.UTC(2019, 0, 1) + r.int(0, 5 * 365) * 86_400_000;
  const offsetMinutes = countryOffset(country, dayMs);
  const localMs = dayMs + r.int(8, 19) * 3_600_000 + r.int(0, 59) * 60_000;
  const epochMs = localMs - offsetMinutes * 60_000;
  const w = wallClock(epochMs, offsetMinutes);
  const localDate = `${w.year}-${pad(w.month, 2)}-${pad(w.day, 2)}`;
  const format = r.pick(SIGNUP_FORMATS);
  let value: string | number;
  if (format === "iso_date") value = localDate;
  else if (format === "dmy") value = `${pad(w.day, 2)}/${pad(w.month, 2)}/${w.year}`;
  else if (format === "iso_offset") value = isoWithOffset(epochMs, offsetMinutes);
  else if (format === "epoch_seconds") value = Math.floor(epochMs / 1000);
  else value = rfc2822(epochMs, offsetMinutes);
  return { epochMs: epochMs, localDate: localDate, offsetMinutes: offsetMinutes, format: format, value: value };
}

const US_AREAS = ["415", "212", "312", "617", "206", "512", "303"];

function phoneOf(r: Rng, country: Country, p: number): string | null {
  if (p % 250 === 3) return "12345";
  if (p % 250 === 5) return null;
  if (p % 250 === 9) return "";
  if (r.chance(0.03)) return r.pick(["12345", "", null, "n/a", "+33 6 12"]);
  if (country === "FR") {
    // allocated mobile ranges only (06 00-06 89, 07 30-07 89), so intended-valid numbers validate
    const d = (r.chance(0.6) ? "6" + String(r.int(0, 8)) : "7" + String(r.int(3, 8))) + r.digits(7);
    const spaced = d.replace(/^(\d)(\d\d)(\d\d)(\d\d)(\d\d)$/, "$1 $2 $3 $4 $5");
    return r.pick([`+33 ${spaced}`, `0${spaced}`, `0033${d}`, `+33${d}`, `0${d}`]);
  }
  if (country === "US") {
    const area = r.pick(US_AREAS);
    const exchange = String(r.int(200, 999));
    const line = r.digits(4);
    return r.pick([`(${area}) ${exchange}-${line}`, `${area}.${exchange}.${line}`, `+1 ${area}-${exchange}-${line}`, `${area}${exchange}${line}`]);
  }
  const london = `${r.pick(["3", "7", "8"])}${r.digits(3)} ${r.digits(4)}`;
  return r.pick([`+44 20 ${london}`, `020 ${london}`, `+4420${london.replace(" ", "")}`]);
}

/** The well-formed customer first seen at normal position p (updated_at left empty), and its signup. */
function customerIdentity(seed: number, p: number): { customer: Customer; signup: Signup } {
  const r = rngFor(seed, "commerce.customer", p);
  const country: Country = r.pick(["FR", "FR", "US", "US", "GB"] as const);
  const first = r.pick(FIRST_NAMES);
  const last = r.pick(LAST_NAMES);
  const email = `${asciiSlug(first)}.${asciiSlug(last)}${r.int(1, 999)}@${r.pick(["example.com", "mail.test", "demo.org"])}`;
  const upper = r.chance(0.05);
  const phone = phoneOf(r, country, p);
  const signup = signupOf(r, country);
  const customer: Customer = {
    customer_id: customerId(p),
    first_name: first,
    last_name: last,
    email: upper ? email.toUpperCase() : email,
    phone: phone,
    country: country,
    signup_date: signup.value,
    updated_at: "",
  };
  return { customer: customer, signup: signup };
}

/** The signup details behind the customer first seen at normal position p. */
export function commerceCustomerSignup(seed: number, p: number): Signup {
  return customerIdentity(seed, p).signup;
}

/** `updated_at` of stream position j: about one customer update per minute from 2024-01-01. */
export function customerUpdatedAtMs(seed: number, j: number): number {
  return COMMERCE_EPOCH_MS + j * 60_000 + Math.floor(unitOf(seed, "commerce.customer.time", j) * 60) * 1000;
}

/** The record at stream position j (0-based) of the customers stream: an object, or a bare string. */
export function commerceCustomer(seed: number, j: number): Customer | string {
  const kind = customerKind(seed, j);
  if (kind === "not_object") return `#ERROR row ${j + 1}: unreadable`;
  const updated = isoUtcSeconds(customerUpdatedAtMs(seed, j));
  if (kind === "duplicate") {
    const c = customerIdentity(seed, customerDuplicateOf(seed, j)).customer;
    c.updated_at = updated;
    const r = rngFor(seed, "commerce.customer.change", j);
    const change = r.int(0, 4);
    if (change === 0) c.email = `${asciiSlug(c.first_name)}.${asciiSlug(c.last_name)}@newmail.test`;
    else if (change === 1) c.last_name = c.last_name.toUpperCase();
    else if (change === 2) c.phone = c.country === "FR" ? "+33 7 80 00 00 01" : c.country === "US" ? "(415) 555-0199" : "+44 20 7946 0001";
    return c;
  }
  const c = customerIdentity(seed, j).customer;
  c.updated_at = updated;
  if (kind === "missing_id") delete c.customer_id;
  return c;
}

// ---------------------------------------------------------------- sales

const SALE_OFFSETS = [60, 120, 0, 60, -300, -240];

/** Sale j (0-based) of a store with `products` products and `customers` customer stream positions. */
export function commerceSale(seed: number, j: number, products: number, customers: number): Sale | number {
  if (j % 200 === 17) return 404;
  const r = rngFor(seed, "commerce.sale", j);
  const productIndex = r.int(0, Math.max(products, 1) - 1);
  const customerPos = normalAtOrBefore(seed, r.int(0, Math.max(customers, 1) - 1));
  const quantity = r.int(1, 5);
  const price = productPrice(commerceProduct(seed, productIndex));
  const soldMs = COMMERCE_EPOCH_MS + j * 300_000 + r.int(0, 299) * 1000;
  return {
    sale_id: "S" + pad(j + 1, 7),
    customer_id: customerId(customerPos),
    product_id: productId(productIndex),
    quantity: j % 200 === 11 ? "many" : quantity,
    amount: round2(quantity * price),
    sold_at: isoWithOffset(soldMs, r.pick(SALE_OFFSETS)),
  };
}
