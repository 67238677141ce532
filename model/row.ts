/** A record as it flows through the graph: a plain JSON object, safe to serialize. */
export type Row = Record<string, unknown>;

/** Columns every landed row carries, so any row can be traced to the request that brought it. */
export interface Lineage {
  /** UTC ISO-8601 with milliseconds, e.g. `2026-11-22T10:15:00.123Z`. */
  _ingested_at: string;
  _run_id: string;
  /** The endpoint (path, no query secrets), e.g. `/commerce/customers`. */
  _source: string;
  /** The page number, offset or cursor that produced the record. */
  _page: string;
  /** Stable hash of the raw record: sha256 of its canonical JSON (keys sorted). */
  _payload_hash: string;
}

export const LINEAGE_COLUMNS = ["_ingested_at", "_run_id", "_source", "_page", "_payload_hash"] as const;

/** A pure step either gives a value or says why not; reasons become dead letters. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value: value });
export const failed = <T = never>(reason: string): Outcome<T> => ({ ok: false, reason: reason });
