/**
 * The run manifest: what a run fetched, kept and dropped, per entity, and the checks that prove
 * nothing was lost (`fetched = valid + dead-lettered`, `valid = kept + duplicates`, and
 * `kept = hub inserted + updated + unchanged + older ignored`: the hub's decision per kept record).
 */

/** Stage counters each entity branch increments (names are `<entity>/<counter>`). */
export const COUNTERS = ["pages", "fetched", "parse_failed", "validate_failed", "normalize_failed", "valid", "kept", "duplicates", "fetch_failed_pages", "serving_failed", "aggregate_rejected", "optional_dates_nulled", "hub_inserted", "hub_updated", "hub_unchanged", "hub_older_ignored"] as const;
export type CounterName = (typeof COUNTERS)[number];

export type EntityCounts = Record<CounterName, number>;

export interface ManifestCheck {
  entity: string;
  rule: string;
  ok: boolean;
}

export interface RunManifest {
  run_id: string;
  status: "succeeded" | "failed";
  started_at: string;
  finished_at: string;
  runner: string;
  sink: string;
  sources: string[];
  /** Options as given, secrets never included (they live in env or Secret Manager). */
  options: Record<string, string>;
  entities: Record<string, EntityCounts>;
  /** Original field name -> warehouse column, per entity. */
  name_mappings: Record<string, Record<string, string>>;
  /** Aggregate tables and their row counts. */
  dataproducts: Record<string, number>;
  checks: ManifestCheck[];
  lake_files: number;
  errors: string[];
  /** Set when the run only built a Dataflow template (no job ran here). */
  template_location?: string;
}

export function counterName(entity: string, counter: CounterName): string {
  return `${entity}/${counter}`;
}

/** Groups flat Beam counters (`customers/fetched` -> 10) per entity, zero-filled. */
export function entityCounts(counters: Record<string, number>, entities: readonly string[]): Record<string, EntityCounts> {
  const out: Record<string, EntityCounts> = {};
  for (const entity of entities) {
    const counts = {} as EntityCounts;
    for (const name of COUNTERS) counts[name] = counters[counterName(entity, name)] ?? 0;
    out[entity] = counts;
  }
  return out;
}

export function manifestChecks(entities: Record<string, EntityCounts>): ManifestCheck[] {
  const checks: ManifestCheck[] = [];
  for (const [entity, c] of Object.entries(entities)) {
    checks.push({
      entity: entity,
      rule: `fetched (${c.fetched}) = valid (${c.valid}) + dead-lettered (${c.parse_failed + c.validate_failed + c.normalize_failed})`,
      ok: c.fetched === c.valid + c.parse_failed + c.validate_failed + c.normalize_failed,
    });
    checks.push({
      entity: entity,
      rule: `valid (${c.valid}) = kept (${c.kept}) + duplicates (${c.duplicates})`,
      ok: c.valid === c.kept + c.duplicates,
    });
    // The hub decides each kept record once: a record older than the stored version is not "kept" in the hub.
    checks.push({
      entity: entity,
      rule: `kept (${c.kept}) = hub inserted (${c.hub_inserted}) + updated (${c.hub_updated}) + unchanged (${c.hub_unchanged}) + older ignored (${c.hub_older_ignored})`,
      ok: c.kept === c.hub_inserted + c.hub_updated + c.hub_unchanged + c.hub_older_ignored,
    });
  }
  return checks;
}
