/**
 * The run manifest: what a run fetched, kept and dropped, per entity, and the checks that prove
 * nothing was lost (`fetched = valid + dead-lettered`, `valid = kept + duplicates`, and
 * `kept = hub inserted + updated + unchanged + older ignored`: the hub's decision per kept record).
 */

/** Counts each entity branch tallies (names are `<entity>/<counter>`; summed by pipeline/commit-stage.ts). */
export const COUNTERS = [
  "pages", "fetched", "parse_failed", "validate_failed", "normalize_failed", "valid", "kept", "duplicates",
  "fetch_failed_pages", "serving_failed", "aggregate_rejected", "optional_dates_nulled", "non_finite_nulled",
  "ignored_pages", "sentinel_nulled", "invalid_nulled", "precision_lost", "dst_overlap_later", "dst_gap_shifted",
  "dst_gap_rejected", "unprocessable", "dataproduct_keys_withheld",
  "hub_inserted", "hub_updated", "hub_unchanged", "hub_older_ignored",
  // Schema contract (model/entity-schema.ts): records refused (also in validate_failed), values nulled, values in
  // variant columns.
  "schema_rows_refused", "schema_values_discarded", "schema_variant_values",
  // Streaming on Dataflow: records whose event time was older than the allowed lateness, moved to an open window.
  "event_time_clamped",
] as const;
export type CounterName = (typeof COUNTERS)[number];

/** The counters the cleaner reports per record as value notes (see `Cleaned.notes` in entity-cleaner.ts). */
export const VALUE_NOTES = [
  "sentinel_nulled", "invalid_nulled", "precision_lost", "dst_overlap_later", "dst_gap_shifted", "dst_gap_rejected", "unprocessable",
] as const satisfies readonly CounterName[];

export type EntityCounts = Record<CounterName, number>;

export interface ManifestCheck {
  entity: string;
  rule: string;
  ok: boolean;
}

export interface RunManifest {
  run_id: string;
  /** `partial`: interrupted (SIGINT/SIGTERM); the pages fetched before the stop were committed. */
  status: "succeeded" | "failed" | "partial";
  /**
   * Whether the run's commit stage ran (pipeline/commit-stage.ts): its lake files are visible, its
   * state promoted when it has no error. `false`: the graph failed before, nothing of it was
   * committed and the next run rolls it back. Absent in template-only runs and older manifests.
   */
  committed?: boolean;
  started_at: string;
  finished_at: string;
  runner: string;
  sink: string;
  sources: string[];
  /** Options as given, secrets never included (they live in env or Secret Manager). */
  options: Record<string, string>;
  entities: Record<string, EntityCounts>;
  /** Source key path -> warehouse column, per entity (the run's schema; see `schemas`). */
  name_mappings: Record<string, Record<string, string>>;
  /** Per entity: the run's schema (columns, types, collisions) and what it added or refused. */
  schemas?: Record<string, SchemaReport>;
  /** Aggregate tables and their row counts. */
  dataproducts: Record<string, number>;
  checks: ManifestCheck[];
  lake_files: number;
  errors: string[];
  /** The outcome rules a run is judged by (see `outcomeErrors`); an unmet one is also in `errors`. */
  outcome?: OutcomeRule[];
  /** Runs that never committed (killed, aborted), rolled back before this one fetched anything. */
  rolled_back_runs?: string[];
  /** Per entity, the first few dead-letter reasons of this run (`stage: error`); the rest are in the error table. */
  dead_letter_samples?: Record<string, string[]>;
  /** Set when the run only built a Dataflow template (no job ran here). */
  template_location?: string;
  /**
   * A trial run (`run --limit N`): at most this many records per entity were fetched and landed;
   * watermarks and backfill records were not advanced, so the next run fetches the same range again.
   */
  limited_to?: number;
}

/** An entity's schema as a run left it (pipeline/schema-report.ts builds it from the run's plan). */
export interface SchemaReport {
  contract: { newColumns: string; typeChanges: string };
  /** This run was the entity's first: it established the schema. */
  established: boolean;
  columns: { path: string; column: string; type: string; declared: boolean; variants: Record<string, string> }[];
  collisions: { path: string; wanted: string; column: string; taken_by: string }[];
  added: string[];
  added_variants: { path: string; type: string; column: string }[];
  refused_paths: string[];
}

export function counterName(entity: string, counter: CounterName): string {
  return `${entity}/${counter}`;
}

/** Groups flat counts (`customers/fetched` -> 10, the summed tallies) per entity, zero-filled. */
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

/** Default largest share of an entity's fetched records that may be dead-lettered before the run fails. */
export const DEFAULT_MAX_DEAD_LETTER_SHARE = 0.5;

export interface OutcomeRule {
  entity: string;
  rule: string;
  ok: boolean;
}

/**
 * The rules that make a run that loaded nothing useful fail (exit 1) instead of "succeeding":
 * an entity that fetched records but kept none; an entity whose dead-lettered share of fetched
 * records (parse + validate + normalize) exceeds `maxDeadShare[entity]` (default 50%); a page
 * that kept failing (a fetch dead letter: wrong records path, HTTP errors, loop guard).
 * Shares are fractions in [0, 1].
 */
export function outcomeRules(entities: Record<string, EntityCounts>, maxDeadShare: Readonly<Record<string, number>> = {}): OutcomeRule[] {
  const rules: OutcomeRule[] = [];
  for (const entry of Object.entries(entities)) {
    const entity = entry[0];
    const c = entry[1];
    const dead = c.parse_failed + c.validate_failed + c.normalize_failed;
    const limit = maxDeadShare[entity] ?? DEFAULT_MAX_DEAD_LETTER_SHARE;
    const share = c.fetched ? dead / c.fetched : 0;
    rules.push({ entity: entity, rule: `kept records when some were fetched (fetched ${c.fetched}, kept ${c.kept})`, ok: c.fetched === 0 || c.kept > 0 });
    rules.push({ entity: entity, rule: `dead-lettered share ${percent(share)} <= ${percent(limit)} (${dead} of ${c.fetched})`, ok: share <= limit });
    rules.push({ entity: entity, rule: `no page kept failing (${c.fetch_failed_pages} fetch dead letter(s))`, ok: c.fetch_failed_pages === 0 });
  }
  return rules;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
