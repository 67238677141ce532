import { DateTime, Duration } from "luxon";
import type { IncrementalConfig } from "../../model/source-config";
import { getPath } from "./json-path";

/**
 * Incremental loading on a cursor field: comparing cursor values, the start of a request series
 * (committed cursor minus the lag, or the configured initial value), the largest cursor of a series,
 * and the early stop of descending APIs. Pure functions; luxon reads ISO-8601 timestamps and durations.
 */

export type CursorValue = string | number;

/** Epoch ms of an ISO-8601 timestamp (any offset), or undefined when the text is not one. */
function instantOf(text: string): number | undefined {
  const parsed = DateTime.fromISO(text, { setZone: true });
  return parsed.isValid ? parsed.toMillis() : undefined;
}

/**
 * Orders two cursor values: numbers as numbers, ISO timestamps as instants (so `...T01:00:00+01:00`
 * equals `...T00:00:00Z`), anything else as strings. Negative when `a` comes first.
 */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const ta = typeof a === "string" ? instantOf(a) : undefined;
  const tb = typeof b === "string" ? instantOf(b) : undefined;
  if (ta !== undefined && tb !== undefined) return ta - tb;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The larger of two cursor values; an absent one loses. */
export function laterCursor(a: CursorValue | null | undefined, b: CursorValue | null | undefined): CursorValue | null {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return compareCursor(b, a) > 0 ? b : a;
}

/** The record's cursor value at `cursorField` (dotted), or undefined when absent or not a string or number. */
export function recordCursor(record: unknown, cursorField: string): CursorValue | undefined {
  const value = getPath(record, cursorField);
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value !== "") return value;
  return undefined;
}

/**
 * Where a series starts: `initial` before anything committed, else the committed cursor minus `lag`
 * (never before `initial`). A timestamp cursor minus a lag is written as UTC ISO with milliseconds;
 * a numeric cursor ignores the lag (a lag is a duration of time).
 * @example cursorStart("2024-03-01T12:00:00Z", { initial: "2024-01-01T00:00:00Z", lag: "PT1H", ... }) // "2024-03-01T11:00:00.000Z"
 */
export function cursorStart(committed: CursorValue | null | undefined, incremental: Pick<IncrementalConfig, "initial" | "lag">): CursorValue {
  if (committed === null || committed === undefined) return incremental.initial;
  if (typeof committed !== "string" || incremental.lag === undefined) return laterCursor(committed, incremental.initial) as CursorValue;
  const instant = instantOf(committed);
  const lag = Duration.fromISO(incremental.lag);
  if (instant === undefined || !lag.isValid) return laterCursor(committed, incremental.initial) as CursorValue;
  const start = DateTime.fromMillis(instant, { zone: "utc" }).minus(lag).toISO() as string;
  return laterCursor(start, incremental.initial) as CursorValue;
}

/** The value sent as the request parameter: numbers as decimal text, strings as they are. */
export function cursorParamText(value: CursorValue): string {
  return typeof value === "number" ? String(value) : value;
}

/**
 * True when a descending series may stop after this page: its last record with a cursor is older
 * than the start, so every later page is older still (the API promised `order: desc`).
 */
export function descPageReachedStart(records: readonly unknown[], cursorField: string, start: CursorValue): boolean {
  for (let i = records.length - 1; i >= 0; i--) {
    const cursor = recordCursor(records[i], cursorField);
    if (cursor !== undefined) return compareCursor(cursor, start) < 0;
  }
  return false;
}

/** The largest cursor among records (undefined when none carries one). */
export function maxRecordCursor(records: readonly unknown[], cursorField: string): CursorValue | undefined {
  let best: CursorValue | null = null;
  for (const record of records) best = laterCursor(best, recordCursor(record, cursorField));
  return best ?? undefined;
}
