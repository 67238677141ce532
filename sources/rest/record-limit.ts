/**
 * The record budget of a trial run (`api2lake run --limit N`): at most N records per entity, shared
 * by every request series of the entity in this process (slices and path-parameter combinations are
 * fetched concurrently, so the cap is a counter, not a per-series page count). The direct runner is
 * one process, so the cap is exact there; on several Dataflow workers it holds per worker.
 */

const taken = new Map<string, number>();

/**
 * Takes up to `wanted` records from the budget `limit` of `key` (run id, source and entity) and
 * returns how many were granted (0 once the budget is spent).
 *
 * @example takeRecords("r1/commerce/sales", 5, 3) // 3, then takeRecords(..., 5, 3) // 2
 */
export function takeRecords(key: string, limit: number, wanted: number): number {
  const used = taken.get(key) ?? 0;
  const granted = Math.max(0, Math.min(wanted, limit - used));
  taken.set(key, used + granted);
  return granted;
}

/** Records left in the budget of `key`. */
export function recordsLeft(key: string, limit: number): number {
  return Math.max(0, limit - (taken.get(key) ?? 0));
}
