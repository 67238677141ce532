// The synthetic commerce customers the cleaning-chain and end-to-end benches feed through the
// real cleaning path: deterministic by position, so every peer sees the same records.
import type { Row } from "../model/row";

/** The customers entity as the benches declare it (YAML/JSON input form of `entitySchema`). */
export const CUSTOMERS_ENTITY = {
  path: "/customers",
  primaryKey: ["customer_id"],
  orderBy: "updated_at",
  eventDate: "signup_date",
  fields: {
    customer_id: { type: "string", required: true },
    first_name: { type: "string" },
    last_name: { type: "string" },
    email: { type: "string" },
    phone: { type: "string" },
    country: { type: "string" },
    total_spent: { type: "number", min: 0 },
    signup_date: { type: "date" },
    updated_at: { type: "timestamp" },
  },
  // The row's own `country` (FR/US/GB) overrides this default region (see applyPhones).
  phones: { phone: { region: "FR" } },
  dates: {
    signup_date: { formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "date", required: true },
    updated_at: { formats: ["iso"], output: "timestamp" },
  },
} as const;

const COUNTRIES = ["FR", "FR", "US", "GB"];
const FIRST = ["Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo"];
const LAST = ["Martin", "Smith", "Dubois", "Jones", "Bernard", "Taylor", "Petit", "Brown"];

/** A 32-bit mix of `i` (murmur3 finalizer constants), so shapes spread without a random generator. */
function mix(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The customer id that position `i` carries: its own, or (every 20th record) an earlier one re-sent. */
export function customerIdAt(i: number): number {
  if (i % 20 !== 19) return i;
  let j = i - 1 - (mix(i) % Math.min(i, 5000));
  if (j % 20 === 19) j -= 1;
  return j;
}

/** The phone of the record at position `i` in one of three national or international shapes of `country`. */
function phoneOf(i: number, country: string): string {
  const h = mix(i + 0x51ed);
  if (h % 100 === 0) return "n/a";
  const shape = (h >>> 8) % 3;
  const d = h % 100_000_000;
  if (country === "FR") {
    const p = pad(d, 8).match(/../g) as string[];
    return shape === 0 ? "06 " + p.join(" ") : shape === 1 ? "+33 6 " + p.join(" ") : "06." + p.join(".");
  }
  if (country === "US") {
    const exchange = 200 + (d % 800);
    const line = pad((d >>> 10) % 10_000, 4);
    return shape === 0 ? `(212) ${exchange}-${line}` : shape === 1 ? `212-${exchange}-${line}` : `+1 212 ${exchange} ${line}`;
  }
  const a = pad(d % 1000, 3);
  const b = pad((d >>> 10) % 10_000, 4);
  return shape === 0 ? `020 7${a} ${b}` : shape === 1 ? `+44 20 7${a} ${b}` : `(020) 7${a} ${b}`;
}

/**
 * Record `i` (0-based position in the feed), deterministic:
 * - every 20th position (i % 20 == 19, 5%) re-sends an earlier customer (up to 5,000 positions back)
 *   with a later `updated_at` and a new phone, so dedupe must keep the latest to get the same phones;
 * - `updated_at` is 2024-01-01T00:00:00Z plus `i` seconds (ISO, UTC): later positions are later;
 * - `signup_date` is `yyyy-MM-dd` or `dd/MM/yyyy` (half each), 0.2% an impossible `31/31/2023`;
 * - 0.2% of the originals lack `customer_id`; 1% of phones are `n/a`;
 * - `country` FR (50%), US or GB (25% each), stable per customer; phones are written for it.
 */
export function customerRecord(i: number): Row {
  const id = customerIdAt(i);
  const h = mix(i);
  const hc = mix(id + 0x2545);
  const country = COUNTRIES[hc % 4];
  const month = 1 + (hc % 12);
  const day = 1 + ((hc >>> 4) % 28);
  const badDate = h % 500 === 11;
  const signup = badDate ? "31/31/2023" : (hc >>> 9) % 2 ? `2023-${pad(month, 2)}-${pad(day, 2)}` : `${pad(day, 2)}/${pad(month, 2)}/2023`;
  const first = FIRST[hc % FIRST.length];
  const last = LAST[(hc >>> 3) % LAST.length];
  const record: Row = {
    customer_id: "C" + pad(id, 8),
    first_name: first,
    last_name: last,
    email: `${first.toLowerCase()}.${last.toLowerCase()}${id}@example.com`,
    phone: phoneOf(i, country),
    country: country,
    total_spent: ((h >>> 3) % 100_000) / 100,
    signup_date: signup,
    updated_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  };
  if (i % 20 !== 19 && h % 500 === 7) delete record.customer_id;
  return record;
}
