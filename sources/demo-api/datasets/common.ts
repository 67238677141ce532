/** Formatting helpers and word lists shared by the demo datasets. */

export const pad = (n: number, width: number): string => String(n).padStart(width, "0");

export const round2 = (n: number): number => Math.round(n * 100) / 100;

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `2024-03-05T10:00:00Z` (no milliseconds). */
export function isoUtcSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** `+01:00` / `-03:00` from an offset in minutes east of UTC. */
export function offsetText(offsetMinutes: number, colon = true): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ":" : ""}${pad(abs % 60, 2)}`;
}

/** The wall-clock fields of an instant seen at a fixed offset. */
export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

export function wallClock(epochMs: number, offsetMinutes: number): WallClock {
  const d = new Date(epochMs + offsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** `2024-03-05T10:00:00+01:00` - the instant written at a fixed offset. */
export function isoWithOffset(epochMs: number, offsetMinutes: number): string {
  const w = wallClock(epochMs, offsetMinutes);
  return `${w.year}-${pad(w.month, 2)}-${pad(w.day, 2)}T${pad(w.hour, 2)}:${pad(w.minute, 2)}:${pad(w.second, 2)}${offsetText(offsetMinutes)}`;
}

/** RFC 2822: `Tue, 05 Mar 2024 10:00:00 +0100`. */
export function rfc2822(epochMs: number, offsetMinutes: number): string {
  const w = wallClock(epochMs, offsetMinutes);
  return `${WEEKDAYS[w.weekday]}, ${pad(w.day, 2)} ${MONTHS[w.month - 1]} ${w.year} ${pad(w.hour, 2)}:${pad(w.minute, 2)}:${pad(w.second, 2)} ${offsetText(offsetMinutes, false)}`;
}

/** `2024-01-01 00:00:00` - a zone-less timestamp (the UTC fields of `epochMs`). */
export function zonelessTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace("T", " ");
}

export const FIRST_NAMES = [
  "Alice", "Bruno", "Chloé", "David", "Emma", "François", "Grace", "Hugo", "Inès", "James",
  "Karen", "Louis", "Maria", "Noah", "Olivia", "Pierre", "Quentin", "Rose", "Samuel", "Théo",
  "Uma", "Victor", "Wendy", "Xavier", "Yasmine", "Zoé", "Oliver", "Amelia", "Harry", "Isla",
];

export const LAST_NAMES = [
  "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Smith", "Johnson", "Williams", "Brown",
  "Jones", "Garcia", "Miller", "Davis", "Taylor", "Wilson", "Evans", "Roberts", "Lefèvre",
  "Moreau", "O'Brien", "Nguyen", "Kim", "Patel", "Rossi", "Müller", "Walker", "Hall", "Young",
];

/** Strips accents and non-letters, for emails and usernames. */
export function asciiSlug(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9]/g, "").toLowerCase();
}
