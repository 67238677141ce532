import * as crypto from "crypto";
import * as path from "path";
import { createRunner } from "apache-beam";
import type { Root } from "apache-beam";
import type { Lake, SinkTarget, Warehouse } from "../model/backends";
import type { SourceConfig } from "../model/source-config";
import type { EntitySchema } from "../model/entity-schema";
import { localPaths, openLake, openWarehouse } from "../sinks/open-backends";
import { acquireOutLock } from "./out-lock";
import { acquireBucketLock } from "./bucket-lock";
import { checkBucket, checkServices, liveProbes } from "./gcp-preflight";
import { checkSources } from "./config-checks";
import { rollBackOrphanedRuns } from "./orphaned-runs";
import { stopRequested } from "../sources/rest/stop";
import { mergeSecrets, openSecrets } from "../sources/rest/secrets";
import { redactDeep, type Secrets } from "../sources/rest/auth/redact";
import { selectEntities } from "../sources/rest/entity-selection";
import { parseRangeArgs, parseDateArg, type DateRange, type Slice } from "../sources/rest/slices";
import { readState, planSlices, advanceWatermark, recordBackfill } from "../sources/rest/state";
import type { ParsedOptions } from "./options";
import { buildGraph, type EntityRun } from "./graph";
import { entityCounts, manifestChecks, outcomeRules, type EntityCounts, type RunManifest, type SchemaReport } from "./manifest";
import { readSchema, readSchemaPlan, persistSchemas } from "./schema-state";
import { schemaReport } from "./schema-report";
import { pathMapping } from "../transforms/schema-contract";
import { UsageError } from "./usage-error";
import { templateWritten } from "./dataflow-template";
import { exportJobsWorkbook } from "../sinks/workbook";

export interface RunRequest {
  sources: readonly SourceConfig[];
  /** `--entities`: comma list, ALL, or a file of names. */
  entities: string;
  from?: string;
  to?: string;
  options: ParsedOptions;
}

export function newRunId(now: Date = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z") + "-" + crypto.randomBytes(3).toString("hex");
}

export function sinkTarget(options: ParsedOptions): SinkTarget {
  if (options.sink === "gcp") {
    const missing = (["project", "bucket"] as const).filter((k) => !options[k]);
    if (missing.length) throw new UsageError(`--sink gcp needs ${missing.map((m) => "--" + m).join(" and ")}`);
    return { kind: "gcp", project: options.project!, bucket: options.bucket!, datasetPrefix: options.datasetPrefix ?? "", bigtableInstance: options.bigtableInstance ?? "api2lake", location: options.location ?? "EU", timeoutMs: Number(options.gcpTimeoutMs ?? "60000") };
  }
  return { kind: "local", out: path.resolve(options.out ?? "./out") };
}

/** How a run picks its slices: a backfill of a range, or an incremental run (optionally from a date). */
type SliceMode = { kind: "backfill"; range: DateRange } | { kind: "incremental"; from?: Date };

/**
 * Slices each sliced entity must fetch. Backfill: exactly the missing slices of the range, the
 * watermark untouched. Incremental: from `--from`, else the watermark, else the end of what
 * earlier backfills fetched, up to now.
 */
async function planEntitySlices(target: SinkTarget, source: SourceConfig, entities: readonly string[], mode: SliceMode): Promise<Record<string, Slice[]>> {
  const lake = await openLake(target);
  const plan: Record<string, Slice[]> = {};
  for (const name of entities) {
    const slices = source.entities[name].slices;
    if (!slices) continue;
    const state = await readState(lake, source.name, name);
    if (mode.kind === "backfill") {
      plan[name] = planSlices(mode.range, state.watermark, state.fetched, { step: slices.step });
      continue;
    }
    const fetchedEnd = state.fetched.length ? state.fetched[state.fetched.length - 1].end : undefined;
    const start = mode.from ? mode.from.toISOString() : state.watermark ?? fetchedEnd;
    if (!start) throw new UsageError(`${source.name}.${name} has no watermark yet: give --from <date> for its first run (or backfill a range with --from and --to)`);
    plan[name] = planSlices(undefined, start, [], { step: slices.step });
  }
  return plan;
}

/** Each entity's persisted schema (the graph extends it; see pipeline/schema-state.ts). */
async function readSchemas(target: SinkTarget, source: SourceConfig, entities: readonly string[]): Promise<Record<string, EntitySchema | undefined>> {
  const lake = await openLake(target);
  const out: Record<string, EntitySchema | undefined> = {};
  for (const name of entities) out[name] = await readSchema(lake, source.name, name);
  return out;
}

/** The run's plan, checked before anything runs: every problem here is a usage error. */
async function planRun(request: RunRequest, target: SinkTarget): Promise<{ runs: EntityRun[]; mode: SliceMode }> {
  try {
    runnerOptions(request.options, target);
    const findings = checkSources(request.sources);
    for (const warning of findings.warnings) console.error(`warning: ${warning}`);
    if (findings.errors.length) throw new UsageError(findings.errors.join("\n"));
    const mode: SliceMode = request.from && request.to
      ? { kind: "backfill", range: parseRangeArgs(request.from, request.to) }
      : request.to
        ? (() => { throw new Error("--to needs --from (a backfill of the range); --from alone runs incrementally from that date"); })()
        : { kind: "incremental", from: request.from ? parseDateArg(request.from, "--from").date : undefined };
    const runs: EntityRun[] = [];
    for (const source of request.sources) {
      const entities = await selectEntities(Object.keys(source.entities), request.entities);
      runs.push({ source: source, entities: entities, slices: await planEntitySlices(target, source, entities, mode), schemas: await readSchemas(target, source, entities) });
    }
    return { runs: runs, mode: mode };
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
}

/**
 * One batch run: plan, build the graph from the declarations, run it, then - only after the
 * sinks committed - publish the lake files, advance watermarks and write the manifest.
 */
export async function executeRun(request: RunRequest): Promise<RunManifest> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const target = sinkTarget(request.options);
  const serving = request.sources.some((source) => Object.values(source.entities).some((entity) => entity.serving !== undefined));
  const claim = await claimOut(target, runId, startedAt, request.options, serving);
  try {
    return await executeClaimedRun(request, runId, startedAt, target, claim.rolledBack);
  } finally {
    await claim.release();
  }
}

/**
 * Before anything else (planning reads watermarks, the graph fetches): the `--out` lock, and the
 * warehouse held open for the whole run, so a second run, or a DuckDB session another process
 * holds, fails here with a message naming the holder instead of after all the fetching.
 */
async function claimOut(
  target: SinkTarget, runId: string, startedAt: Date, options: ParsedOptions, serving: boolean,
): Promise<{ release: () => Promise<void>; rolledBack: string[] }> {
  if (target.kind !== "local") return claimBucket(target, runId, startedAt, options, serving);
  const lock = acquireOutLock(target.out, runId, startedAt);
  let warehouse: Warehouse;
  try {
    warehouse = await openWarehouse(target);
  } catch (error) {
    lock.release();
    throw new UsageError(`the warehouse ${localPaths(target.out).warehouse} is open in another process (${(error as Error).message.split("\n")[0]}): close that session and try again`);
  }
  const release = async () => {
    await warehouse.close().catch(() => undefined);
    lock.release();
  };
  try {
    return { release: release, rolledBack: await rollBackOrphanedRuns(target.out, warehouse, runId) };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * `--sink gcp`, before any fetching: the bucket exists, its run lock (pipeline/bucket-lock.ts) is
 * ours, the Bigtable instance exists and BigQuery answers; each failure is a usage error naming
 * the resource and its option. A run that only writes a Dataflow template asks nothing (offline).
 */
async function claimBucket(
  target: Extract<SinkTarget, { kind: "gcp" }>, runId: string, startedAt: Date, options: ParsedOptions, serving: boolean,
): Promise<{ release: () => Promise<void>; rolledBack: string[] }> {
  const none = { release: async () => undefined, rolledBack: [] as string[] };
  const runner = (() => {
    try {
      return runnerOptions(options, target);
    } catch {
      return {} as Record<string, unknown>; // planRun reports the bad runner options as a usage error
    }
  })();
  if (typeof runner.templateLocation === "string") return none;
  const probes = liveProbes(target);
  await checkBucket(target, probes);
  const lock = await acquireBucketLock({ project: target.project, bucket: target.bucket, runId: runId, now: startedAt, staleAfterMs: Number(options.lockStaleHours ?? "6") * 3_600_000 });
  try {
    await checkServices(target, probes, { serving: serving });
  } catch (error) {
    await lock.release();
    throw error;
  }
  return { release: lock.release, rolledBack: [] };
}

async function executeClaimedRun(request: RunRequest, runId: string, startedAt: Date, target: SinkTarget, rolledBack: string[]): Promise<RunManifest> {
  const planned = await planRun(request, target);
  const runs = planned.runs;
  const backfill = planned.mode.kind === "backfill";
  const maxWorkers = Number(request.options.maxWorkers ?? "8");
  // A trial run (--limit N) lands at most N records per entity and never moves watermarks or backfill records.
  const recordLimit = request.options.limit === undefined ? undefined : Number(request.options.limit);
  return runAndRecord({
    runId: runId,
    startedAt: startedAt,
    target: target,
    options: request.options,
    sources: request.sources.map((s) => s.name),
    entities: runs.flatMap((r) => r.entities),
    secrets: mergeSecrets(request.sources.map((s) => openSecrets(s).secrets)),
    maxDeadShare: deadShareLimits(runs),
    rolledBack: rolledBack,
    build: (root: Root) => buildGraph(root, { runId: runId, target: target, maxWorkers: maxWorkers, runs: runs, recordLimit: recordLimit }),
    afterCommit: async (lake) => {
      // The schemas this run extended become the persisted ones only now that it committed.
      await persistSchemas(lake, runId, runs.flatMap((r) => r.entities));
      for (const run of recordLimit === undefined ? runs : []) {
        for (const name of Object.keys(run.slices ?? {})) {
          const slices = (run.slices ?? {})[name];
          if (backfill) await recordBackfill(lake, run.source.name, name, { slices: slices });
          else await advanceWatermark(lake, run.source.name, name, { slices: slices });
        }
      }
      // The jobs seed's two-sheet workbook, when this run counted job postings into a local warehouse.
      const countsJobs = runs.some((r) => r.entities.some((e) => r.source.entities[e].aggregates.some((a) => a.type === "jobs_by_location")));
      if (target.kind === "local" && countsJobs) await exportJobsWorkbook(target.out);
    },
  });
}

export interface GraphRun {
  runId: string;
  startedAt: Date;
  target: SinkTarget;
  options: ParsedOptions;
  sources: string[];
  entities: string[];
  build: (root: Root) => void;
  /** After the lake committed, only when the run succeeded (e.g. advance watermarks). */
  afterCommit?: (lake: Lake) => Promise<void>;
  /** Masked in the manifest, the log and the console summary (every `${VAR}` value of the run's sources). */
  secrets?: Secrets;
  /** Per entity, the largest dead-lettered share of fetched records (outcome rule; default 50%). */
  maxDeadShare?: Record<string, number>;
  /** Runs that never committed, rolled back before this one started (pipeline/orphaned-runs.ts). */
  rolledBack?: string[];
}

/** Each entity's declared `maxDeadLetterShare`, for the outcome rules. */
function deadShareLimits(runs: readonly EntityRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const run of runs) {
    for (const name of run.entities) {
      const share = run.source.entities[name].maxDeadLetterShare;
      if (share !== undefined) out[name] = share;
    }
  }
  return out;
}

/**
 * Runs a graph, then - only after its sinks committed - makes the run's lake files visible,
 * calls `afterCommit` when everything held, and writes the manifest. A graph that threw leaves
 * its lake files pending (invisible) and the run failed.
 */
export async function runAndRecord(run: GraphRun): Promise<RunManifest> {
  const errors: string[] = [];
  let counters: Record<string, number> = {};
  let graphSucceeded = false;
  const runnerConfig: Record<string, unknown> = { jobName: `api2lake-${run.runId.toLowerCase()}`, ...runnerOptions(run.options, run.target) };
  const template = typeof runnerConfig.templateLocation === "string" ? runnerConfig.templateLocation : undefined;
  try {
    const result = await createRunner(runnerConfig).run((root: Root) => run.build(root));
    counters = await result.counters();
    graphSucceeded = true;
  } catch (error) {
    if (!template) errors.push((error as Error).message);
  }
  if (template) {
    // Building a template runs no job here: nothing to commit, no watermark, no manifest.
    const written = await templateWritten(template).catch(() => false);
    return { ...emptyManifest(run), status: written ? "succeeded" : "failed", template_location: template, errors: written ? [] : [`no template was written to ${template}`, ...errors] };
  }

  const lake = await openLake(run.target);
  const entities = entityCounts(counters, run.entities);
  // Dataflow's job service returns no counters ("monitoring infos not yet supported"): then the
  // checks cannot be computed, and the manifest says so instead of passing 0 = 0.
  const countsKnown = graphSucceeded && (run.options.runner !== "dataflow" || Object.keys(counters).length > 0);
  if (graphSucceeded && !countsKnown) errors.push("the runner reported no counters: per-stage counts and their checks are unavailable for this run");
  const checks = countsKnown ? manifestChecks(entities) : [];
  const outcome = countsKnown ? outcomeRules(entities, run.maxDeadShare) : [];
  if (Object.values(entities).some((c) => c.fetch_failed_pages > 0)) errors.push("some pages kept failing after retries: see the fetch dead letters; the pages before them were kept");
  for (const rule of outcome.filter((r) => !r.ok && !r.rule.startsWith("no page kept failing"))) errors.push(`${rule.entity}: outcome rule not met: ${rule.rule}`);
  if (checks.some((c) => !c.ok)) errors.push("counts do not add up: " + checks.filter((c) => !c.ok).map((c) => `${c.entity}: ${c.rule}`).join("; "));
  // Interrupted (first SIGINT/SIGTERM): the pages in hand are committed, watermarks stay put.
  const interrupted = stopRequested();
  if (interrupted) errors.push("interrupted: fetching stopped early, the pages fetched before the stop were committed; watermarks were not advanced");
  // What the sinks wrote becomes visible, including the pages fetched before a failing one.
  // Whatever goes wrong after the graph, the manifest is still written and says so.
  try {
    if (graphSucceeded) await lake.commit(run.runId);
    if (errors.length === 0 && run.afterCommit) await run.afterCommit(lake);
  } catch (error) {
    errors.push(`after the graph: ${(error as Error).message}`);
  }

  const nameMappings: Record<string, Record<string, string>> = {};
  const schemas: Record<string, SchemaReport> = {};
  for (const name of run.entities) {
    const plan = await readSchemaPlan(lake, run.runId, name);
    if (!plan) continue;
    nameMappings[name] = pathMapping(plan.schema);
    schemas[name] = schemaReport(plan);
  }
  const dataproducts: Record<string, number> = {};
  for (const key of Object.keys(counters)) if (key.startsWith("dataproducts/")) dataproducts[key.slice("dataproducts/".length)] = counters[key];
  let lakeFiles = 0;
  for (const layer of ["raw/", "processed/", "deadletter/"]) lakeFiles += (await lake.list(layer).catch(() => [] as string[])).filter((f) => f.includes(run.runId)).length;

  const manifest: RunManifest = {
    run_id: run.runId,
    status: interrupted && graphSucceeded ? "partial" : errors.length ? "failed" : "succeeded",
    started_at: run.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    runner: run.options.runner ?? "direct",
    sink: run.target.kind,
    sources: run.sources,
    options: publicOptions(run.options),
    entities: entities,
    name_mappings: nameMappings,
    schemas: schemas,
    dataproducts: dataproducts,
    checks: checks,
    lake_files: lakeFiles,
    errors: errors,
    outcome: outcome,
    dead_letter_samples: graphSucceeded ? await deadLetterSamples(run.target, run.runId, entities) : {},
    rolled_back_runs: run.rolledBack ?? [],
  };
  if (run.options.limit !== undefined) manifest.limited_to = Number(run.options.limit);
  // Secrets are values: whatever an error message or a sample carried, none leaves in clear.
  return recordManifest(lake, run, run.secrets ? redactDeep(manifest, run.secrets) : manifest);
}

async function recordManifest(lake: Lake, run: GraphRun, manifest: RunManifest): Promise<RunManifest> {
  await lake.writeText(`runs/${run.runId}.json`, JSON.stringify(manifest, null, 2) + "\n");
  // The run's log goes beside its manifest (on GCS too, as the fleet scripts shipped theirs).
  const where = run.target.kind === "local" ? run.target.out : `gs://${run.target.bucket}`;
  await lake.writeText(`runs/${run.runId}.log`, formatSummary(manifest, where) + "\n");
  return manifest;
}

/** How many dead-letter reasons per entity the manifest and the console show. */
const SAMPLE_REASONS = 3;

/**
 * The first few dead-letter reasons of this run per entity (`stage: error`), read back from
 * `lake.<entity>_error_records`; an entity without dead letters has none. A warehouse that cannot
 * be read leaves the samples empty (the counts and the files still say where to look).
 */
async function deadLetterSamples(target: SinkTarget, runId: string, entities: Record<string, EntityCounts>): Promise<Record<string, string[]>> {
  const withDead = Object.keys(entities).filter((e) => {
    const c = entities[e];
    return c.parse_failed + c.validate_failed + c.normalize_failed + c.fetch_failed_pages + c.serving_failed + c.aggregate_rejected > 0;
  });
  const out: Record<string, string[]> = {};
  if (!withDead.length) return out;
  const warehouse = await openWarehouse(target);
  try {
    for (const entity of withDead) {
      const rows = await warehouse
        .query(`SELECT stage, error FROM lake.${entity}_error_records WHERE run_id = '${runId.replace(/'/g, "''")}' ORDER BY failed_at, error LIMIT ${SAMPLE_REASONS}`)
        .catch(() => []);
      out[entity] = rows.map((r) => `${String(r.stage)}: ${String(r.error)}`);
    }
  } finally {
    await warehouse.close();
  }
  return out;
}

/** Options are flags, never secrets (those come from the environment), but mask anything key-like anyway. */
function publicOptions(options: ParsedOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of Object.entries(options)) {
    if (entry[1] !== undefined) out[entry[0]] = /key|token|secret|password/i.test(entry[0]) ? "***" : entry[1];
  }
  return out;
}

function runnerOptions(options: ParsedOptions, target: SinkTarget): Record<string, unknown> {
  if (options.runner !== "dataflow") return { runner: "direct" };
  if (target.kind !== "gcp") throw new UsageError("--runner dataflow needs --sink gcp (workers cannot write to your laptop)");
  // A Flex Template launch passes Dataflow's own options (templateLocation, jobName, ...) through
  // the launcher as JSON; they win over the defaults derived here.
  const fromLauncher = process.env.API2LAKE_DATAFLOW_OPTIONS ? (JSON.parse(process.env.API2LAKE_DATAFLOW_OPTIONS) as Record<string, unknown>) : {};
  return { runner: "dataflow", project: target.project, region: process.env.API2LAKE_REGION ?? "europe-west1", tempLocation: `gs://${target.bucket}/tmp`, stagingLocation: `gs://${target.bucket}/staging`, ...fromLauncher };
}

function emptyManifest(run: GraphRun): RunManifest {
  const now = new Date().toISOString();
  return {
    run_id: run.runId, status: "succeeded", started_at: run.startedAt.toISOString(), finished_at: now, runner: run.options.runner ?? "direct",
    sink: run.target.kind, sources: run.sources, options: publicOptions(run.options), entities: entityCounts({}, run.entities),
    name_mappings: {}, dataproducts: {}, checks: [], lake_files: 0, errors: [],
  };
}

export function printSummary(manifest: RunManifest, out: string): void {
  console.log(formatSummary(manifest, out));
}

/** The run's human summary: printed by the CLI and kept as the run's log beside its manifest. */
export function formatSummary(manifest: RunManifest, out: string): string {
  const lines: string[] = [];
  if (manifest.template_location) {
    lines.push(`run ${manifest.run_id}: ${manifest.status === "succeeded" ? `Dataflow template written to ${manifest.template_location}` : "no template written"}`);
    for (const e of manifest.errors) lines.push(`error: ${e}`);
    return lines.join("\n");
  }
  lines.push(`run ${manifest.run_id}: ${manifest.status}`);
  lines.push("");
  lines.push("entity".padEnd(18) + ["fetched", "dead", "dupes", "kept"].map((h) => h.padStart(9)).join(""));
  for (const entry of Object.entries(manifest.entities)) {
    const c = entry[1];
    const dead = c.parse_failed + c.validate_failed + c.normalize_failed;
    lines.push(entry[0].padEnd(18) + [c.fetched, dead, c.duplicates, c.kept].map((n) => String(n).padStart(9)).join(""));
  }
  for (const entry of Object.entries(manifest.dataproducts)) lines.push(`dataproducts.${entry[0]}: ${entry[1]} rows`);
  for (const entry of Object.entries(manifest.entities)) {
    const c = entry[1];
    if (c.fetch_failed_pages) lines.push(`${entry[0]}: ${c.fetch_failed_pages} page(s) kept failing (fetch dead letters)`);
    if (c.serving_failed) lines.push(`${entry[0]}: ${c.serving_failed} row(s) refused by the serving store (sink dead letters)`);
    if (c.aggregate_rejected) lines.push(`${entry[0]}: ${c.aggregate_rejected} row(s) rejected by aggregates (aggregate dead letters)`);
  }
  for (const entry of Object.entries(manifest.dead_letter_samples ?? {})) {
    if (!entry[1].length) continue;
    lines.push(`${entry[0]} dead letters, first ${entry[1].length} (all: lake.${entry[0]}_error_records, lake/deadletter/${entry[0]}/):`);
    for (const reason of entry[1]) lines.push(`  - ${reason.length > 200 ? reason.slice(0, 197) + "..." : reason}`);
  }
  if (manifest.limited_to !== undefined) lines.push(`trial run: at most ${manifest.limited_to} record(s) per entity (--limit); watermarks were not advanced`);
  if (manifest.rolled_back_runs?.length) lines.push(`rolled back first (never committed): ${manifest.rolled_back_runs.join(", ")}`);
  const failedChecks = manifest.checks.filter((c) => !c.ok).length;
  lines.push("");
  lines.push(manifest.checks.length ? `checks: ${manifest.checks.length - failedChecks}/${manifest.checks.length} hold (fetched = valid + dead-lettered, valid = kept + duplicates)` : "checks: not run (the graph failed)");
  for (const e of manifest.errors) lines.push(`error: ${e}`);
  if (manifest.sink === "local") {
    lines.push("");
    lines.push(`lake:       ${path.join(out, "lake")}  (raw/, processed/, deadletter/)`);
    lines.push(`warehouse:  ${path.join(out, "warehouse.duckdb")}  (schemas lake, hub, dataproducts)`);
    lines.push(`serving:    ${path.join(out, "serving")}  (api2lake serve read <table>)`);
    lines.push(`manifest:   ${path.join(out, "runs", manifest.run_id + ".json")}`);
  }
  return lines.join("\n");
}
