import type { HubMergeResult } from "../model/backends";

/**
 * What a hub merge decides for each input row, shared by the DuckDB and BigQuery warehouses
 * (both compute it in SQL against the stored rows, then tally it here).
 *
 * The rule (issue 8: versions only move forward), for a row against the stored row of its key:
 * - no stored row: `inserted`;
 * - beaten by another row of the same key in the batch (greater `orderBy`, or later in the
 *   batch on a tie): `older_ignored`;
 * - with `orderBy`, a row whose value is smaller than the stored one, or null while the stored
 *   one is not (a null sorts before every value): `older_ignored`;
 * - the same `_payload_hash` and `orderBy` value as the stored row: `unchanged` (left as it is);
 * - otherwise `updated` (an equal `orderBy` value with another payload replaces: `>=`).
 */
export type Decision = "inserted" | "updated" | "unchanged" | "older_ignored";

export const DECISIONS: readonly Decision[] = ["inserted", "updated", "unchanged", "older_ignored"];

/** Counts per decision and the accepted (inserted or updated) input indexes, ascending. Throws on an unknown decision. */
export function tallyDecisions(decisions: readonly { index: number; decision: Decision }[]): HubMergeResult {
  const result: HubMergeResult = { inserted: 0, updated: 0, unchanged: 0, olderIgnored: 0, accepted: [] };
  for (const d of decisions) {
    switch (d.decision) {
      case "inserted": result.inserted++; break;
      case "updated": result.updated++; break;
      case "unchanged": result.unchanged++; break;
      case "older_ignored": result.olderIgnored++; break;
      default: throw new Error(`unknown hub merge decision ${JSON.stringify(d.decision)}`);
    }
    if (d.decision === "inserted" || d.decision === "updated") result.accepted.push(d.index);
  }
  result.accepted.sort((a, b) => a - b);
  return result;
}

export interface DecisionSql {
  source: string;
  target: string;
  quote: (name: string) => string;
  orderBy?: string;
}

/** SQL true when the source row may replace the stored one: no `orderBy`, or its value is not older (nulls first). */
export function acceptCondition(q: DecisionSql): string {
  if (q.orderBy === undefined) return "TRUE";
  const s = `${q.source}.${q.quote(q.orderBy)}`;
  const t = `${q.target}.${q.quote(q.orderBy)}`;
  return `(${t} IS NULL OR (${s} IS NOT NULL AND ${s} >= ${t}))`;
}

/**
 * The SQL CASE giving a staged row's decision; `source`/`target` are the (quoted) aliases,
 * `quote` the dialect's identifier quoting, `present` a column that is non-null only when the
 * key is stored, `rank` the row's rank within its key in the batch (1 = the newest).
 */
export function decisionCase(q: DecisionSql & { present: string; rank: string; payloadHash?: string }): string {
  const s = (c: string) => `${q.source}.${q.quote(c)}`;
  const t = (c: string) => `${q.target}.${q.quote(c)}`;
  const accept = acceptCondition(q);
  const sameOrder = q.orderBy === undefined ? "TRUE" : `(${s(q.orderBy)} = ${t(q.orderBy)} OR (${s(q.orderBy)} IS NULL AND ${t(q.orderBy)} IS NULL))`;
  const unchanged = q.payloadHash === undefined ? "FALSE" : `(${s(q.payloadHash)} = ${t(q.payloadHash)} AND ${sameOrder})`;
  return `CASE WHEN ${s(q.rank)} > 1 THEN 'older_ignored' WHEN ${t(q.present)} IS NULL THEN 'inserted'` +
    ` WHEN NOT ${accept} THEN 'older_ignored' WHEN ${unchanged} THEN 'unchanged' ELSE 'updated' END`;
}
