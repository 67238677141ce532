import * as os from "os";
import * as crypto from "crypto";
import * as path from "path";
import { createRunner } from "apache-beam";
import type { PCollection, Root } from "apache-beam";
import type { SinkTarget, Warehouse } from "../model/backends";
import type { SourceConfig } from "../model/source-config";
import type { EntitySchema } from "../model/entity-schema";
import { localPaths, openLake, openWarehouse } from "../sinks/open-backends";
import { acquireOutLock } from "./out-lock";
import { acquireBucketLock } from "./bucket-lock";
import { checkBucket, checkServices, liveProbes } from "./gcp-preflight";
import { checkSources } from "./config-checks";
import { rollBackOrphanedRuns } from "./orphaned-runs";
import { mergeSecrets, openSecrets, sealForWorkers } from "../sources/rest/secrets";
import { redactDeep, variants, type Secrets } from "../sources/rest/auth/redact";
import { secretManagerValuesRead } from "../sources/rest/secret-manager";
import { selectEntities } from "../sources/rest/entity-selection";
import { parseRangeArgs, parseDateArg, type DateRange, type Slice } from "../sources/rest/slices";
import { readState, planSlices } from "../sources/rest/state";
import { textValue, withDefaults, type DefaultedOptions, type ParsedOptions } from "./options";
import { buildGraph, type EntityRun, type LakeRead } from "./graph";
import { entityCounts, type RunManifest } from "./manifest";
import { readSchema } from "./schema-state";
import { UsageError } from "./usage-error";
import { sinkTarget } from "./sink-target";
import { missingParents } from "../sources/rest/parent-child";
import type { CommittedCursors } from "../sources/rest/work-item";
import { templateWritten } from "./dataflow-template";
import { applyCommitStage, readManifest, recordManifest, type CommitInput, type CommitSpec, type Promotion } from "./commit-stage";
import { pythonBeamInterpreter, runPortable } from "./portable-runner";
import { closeCleanPools } from "./clean-step";

export interface RunRequest {
  sources: readonly SourceConfig[];
  /** `--entities`: comma list, ALL, or a file of names. */
  entities: string | readonly string[];
  from?: string;
  to?: string;
  options: ParsedOptions;
  /** Read from the lake instead of the API (`--from-raw`, `replay`): no slices, no watermark moves. */
  read?: LakeRead;
}

// Moved to ./sink-target (light for read-only commands); re-exported for the existing importers.
export { sinkTarget };

export function newRunId(now: Date = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z") + "-" + crypto.randomBytes(3).toString("hex");
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

/** Each incremental entity's committed cursors (the graph starts its series from them, minus the lag). */
async function readCursors(target: SinkTarget, source: SourceConfig, entities: readonly string[]): Promise<Record<string, CommittedCursors>> {
  const lake = await openLake(target);
  const out: Record<string, CommittedCursors> = {};
  for (const name of entities) {
    if (!source.entities[name].incremental) continue;
    const state = await readState(lake, source.name, name);
    out[name] = { cursor: state.cursor, parents: state.parents };
  }
  return out;
}

/** The run's plan, checked before anything runs: every problem here is a usage error. */
async function planRun(request: RunRequest, target: SinkTarget): Promise<{ runs: EntityRun[]; mode: SliceMode }> {
  try {
    runnerOptions(withDefaults("run", request.options), target);
    const findings = checkSources(request.sources);
    for (const warning of findings.warnings) console.error(`warning: ${warning}`);
    if (findings.errors.length) throw new UsageError(findings.errors.join("\n"));
    // A lake read plans no slices: its --from/--to pick raw days (run-command.ts), not API ranges.
    const mode: SliceMode = request.read ? { kind: "incremental" } : request.from && request.to
      ? { kind: "backfill", range: parseRangeArgs(request.from, request.to) }
      : request.to
        ? (() => { throw new Error("--to needs --from (a backfill of the range); --from alone runs incrementally from that date"); })()
        : { kind: "incremental", from: request.from ? parseDateArg(request.from, "--from").date : undefined };
    const runs: EntityRun[] = [];
    for (const source of request.sources) {
      const entities = await selectEntities(Object.keys(source.entities), request.entities);
      const orphans = missingParents(source, entities);
      if (orphans.length) throw new UsageError(`${source.name}: ${orphans.join("; ")}`);
      runs.push({ source: source, entities: entities, slices: request.read ? {} : await planEntitySlices(target, source, entities, mode), schemas: await readSchemas(target, source, entities), cursors: await readCursors(target, source, entities) });
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
  const claim = await claimOut(target, runId, startedAt, withDefaults("run", request.options), serving);
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
  target: SinkTarget, runId: string, startedAt: Date, options: DefaultedOptions<"run">, serving: boolean,
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
  target: Extract<SinkTarget, { kind: "gcp" }>, runId: string, startedAt: Date, options: DefaultedOptions<"run">, serving: boolean,
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
  const lock = await acquireBucketLock({ project: target.project, bucket: target.bucket, runId: runId, now: startedAt, staleAfterMs: options.lockStaleHours * 3_600_000 });
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
  const maxWorkers = withDefaults("run", request.options).requestConcurrency;
  // A trial run (--limit N) lands at most N records per entity and never moves watermarks or backfill records.
  const recordLimit = request.options.limit;
  // The schemas this run extended, its watermarks or backfilled slices and the jobs workbook: made
  // permanent by the graph's commit stage, only when the run met every rule.
  const promotions: Promotion[] = [
    { kind: "schemas", entities: runs.flatMap((r) => [...r.entities]) },
    { kind: "cursors", entities: runs.flatMap((r) => [...r.entities]) },
    // Dead letters a replay took are skipped by later replays only once it committed.
    { kind: "replayed", entities: runs.flatMap((r) => [...r.entities]) },
  ];
  for (const run of recordLimit === undefined ? runs : []) {
    for (const name of Object.keys(run.slices ?? {})) {
      const slices = [...(run.slices ?? {})[name]];
      promotions.push({ kind: backfill ? "backfill" : "watermark", source: run.source.name, entity: name, slices: slices });
    }
  }
  return runAndRecord({
    runId: runId,
    startedAt: startedAt,
    target: target,
    options: request.options,
    sources: request.sources.map((s) => s.name),
    entities: runs.flatMap((r) => r.entities),
    secrets: mergeSecrets(request.sources.map((s) => openSecrets(s).secrets)),
    sealedSources: request.sources.map((s) => sealForWorkers(s)),
    maxDeadShare: deadShareLimits(runs),
    rolledBack: rolledBack,
    promotions: promotions,
    build: (root: Root) => buildGraph(root, { runId: runId, target: target, maxWorkers: maxWorkers, runs: runs, ...(request.read ? { read: request.read } : {}), recordLimit: recordLimit, cleanWorkers: cleanWorkers(request.options) }),
  });
}

export interface GraphRun {
  runId: string;
  startedAt: Date;
  target: SinkTarget;
  options: ParsedOptions;
  sources: string[];
  entities: string[];
  /** Builds the graph; returns the commit stage's inputs (every sink's results, every tally). */
  build: (root: Root) => PCollection<CommitInput>[];
  /** Pending state the commit stage makes permanent when the run met every rule (pipeline/commit-stage.ts). */
  promotions?: Promotion[];
  /** Masked in a manifest the driver writes (a failed graph) and the console summary (every `${VAR}` value). */
  secrets?: Secrets;
  /** The sources sealed for workers: the commit stage resolves them to mask the same values in what it writes. */
  sealedSources?: SourceConfig[];
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
 * Runs a graph whose last stage commits the run and writes its manifest (pipeline/commit-stage.ts),
 * then reads that manifest back. A graph that failed (a sink, the commit stage itself) committed
 * nothing: the driver writes a failed manifest with the error and no counts.
 */
export async function runAndRecord(run: GraphRun): Promise<RunManifest> {
  const options = withDefaults("run", run.options);
  const runnerConfig: Record<string, unknown> = { jobName: `api2lake-${run.runId.toLowerCase()}`, ...runnerOptions(options, run.target) };
  const template = typeof runnerConfig.templateLocation === "string" ? runnerConfig.templateLocation : undefined;
  const spec: CommitSpec = {
    runId: run.runId,
    startedAt: run.startedAt.toISOString(),
    target: run.target,
    runner: options.runner,
    options: publicOptions(run.options),
    sources: run.sources,
    entities: run.entities,
    sealedSources: run.sealedSources ?? [],
    maxDeadShare: run.maxDeadShare ?? {},
    rolledBack: run.rolledBack ?? [],
    promotions: run.promotions ?? [],
    ...(run.options.limit !== undefined ? { limitedTo: run.options.limit } : {}),
  };
  let failure: string | undefined;
  try {
    const build = (root: Root) => applyCommitStage(root, run.build(root), spec);
    if (runnerConfig.runner === "portable") await runPortable(build, { jobName: runnerConfig.jobName }, String(runnerConfig.python));
    else await createRunner(runnerConfig).run(build);
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    // A failed bundle may leave its cleaning threads running; they would keep the process alive.
    await closeCleanPools();
  }
  if (template) {
    // Building a template runs no job here: the job commits itself when a launch runs it.
    const written = await templateWritten(template).catch(() => false);
    return { ...emptyManifest(run, options), status: written ? "succeeded" : "failed", template_location: template, errors: written ? [] : [`no template was written to ${template}`, ...(failure ? [failure] : [])] };
  }
  const lake = await openLake(run.target);
  if (failure === undefined) {
    const written = await readManifest(lake, run.runId);
    if (written) return written;
    failure = `the graph finished but its commit stage wrote no manifest (runs/${run.runId}.json)`;
  }
  const failed: RunManifest = { ...emptyManifest(run, options), status: "failed", committed: false, finished_at: new Date().toISOString(), errors: [failure], outcome: [], dead_letter_samples: {}, rolled_back_runs: run.rolledBack ?? [] };
  // Secrets are values: none leaves in clear (nor the Secret Manager values this process read).
  const secrets = mergeSecrets([run.secrets ?? { values: [], queryParams: [] }, { values: secretManagerValuesRead().flatMap(variants), queryParams: [] }]);
  return recordManifest(lake, run.target, redactDeep(failed, secrets));
}

/** Options are flags, never secrets (those come from the environment), but mask anything key-like anyway. */
export function publicOptions(options: ParsedOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of Object.entries(options)) {
    if (entry[1] !== undefined) out[entry[0]] = /key|token|secret|password/i.test(entry[0]) ? "***" : textValue(entry[1]);
  }
  return out;
}

/**
 * Worker threads per cleaning step: `--cleanWorkers`, else one per core (`os.availableParallelism`),
 * on the direct runner only; other runners spread bundles over their own workers (0: in place).
 */
export function cleanWorkers(options: ParsedOptions): number {
  if ((options.runner ?? "direct") !== "direct") return 0;
  return options.cleanWorkers ?? os.availableParallelism();
}

/** The runner's options for `--runner` (Dataflow: project, region, staging; the launcher's JSON wins). */
export function runnerOptions(options: DefaultedOptions<"run">, target: SinkTarget): Record<string, unknown> {
  // The local portable job service's python, checked here so that a missing venv is a usage error before any fetching.
  if (options.runner === "portable") return { runner: "portable", python: pythonBeamInterpreter() };
  if (options.runner !== "dataflow") return { runner: "direct" };
  if (target.kind !== "gcp") throw new UsageError("--runner dataflow needs --sink gcp (workers cannot write to your laptop)");
  // A Flex Template launch passes Dataflow's own options (templateLocation, jobName, ...) through
  // the launcher as JSON; they win over the defaults derived here.
  const fromLauncher = process.env.API2LAKE_DATAFLOW_OPTIONS ? (JSON.parse(process.env.API2LAKE_DATAFLOW_OPTIONS) as Record<string, unknown>) : {};
  const workers = options.maxNumWorkers !== undefined ? { maxNumWorkers: options.maxNumWorkers } : {};
  return { runner: "dataflow", project: target.project, region: options.region, tempLocation: `gs://${target.bucket}/tmp`, stagingLocation: `gs://${target.bucket}/staging`, ...workers, ...fromLauncher };
}

function emptyManifest(run: GraphRun, options: DefaultedOptions<"run">): RunManifest {
  const now = new Date().toISOString();
  return {
    run_id: run.runId, status: "succeeded", started_at: run.startedAt.toISOString(), finished_at: now, runner: options.runner,
    sink: run.target.kind, sources: run.sources, options: publicOptions(run.options), entities: entityCounts({}, run.entities),
    name_mappings: {}, dataproducts: {}, checks: [], lake_files: 0, errors: [],
  };
}

/** Prints the summary to stdout, or to `stream` (stderr when `--json-logs` keeps stdout for JSON lines). */
export function printSummary(manifest: RunManifest, out: string, stream?: NodeJS.WritableStream): void {
  if (stream) stream.write(formatSummary(manifest, out) + "\n");
  else console.log(formatSummary(manifest, out));
}

/** A dead-letter reason as the console shows it: one line, at most 200 characters. */
function shortReason(reason: string): string {
  const line = reason.replace(/\s*\n\s*/g, " ");
  return line.length > 200 ? line.slice(0, 197) + "..." : line;
}

/** The run's human summary, printed by the CLI when a run ends (the run's log file is JSON lines: pipeline/run-log.ts). */
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
  const samples = manifest.dead_letter_samples ?? {};
  for (const entry of Object.entries(manifest.entities)) {
    const c = entry[1];
    // The cause itself (HTTP 401, ECONNREFUSED, an HTML body...), from the first fetch dead letter.
    const fetchCause = (samples[entry[0]] ?? []).find((r) => r.startsWith("fetch: "));
    if (c.fetch_failed_pages) lines.push(`${entry[0]}: ${c.fetch_failed_pages} page(s) kept failing` + (fetchCause ? `, first: ${shortReason(fetchCause.slice("fetch: ".length))}` : " (fetch dead letters)"));
    if (c.serving_failed) lines.push(`${entry[0]}: ${c.serving_failed} row(s) refused by the serving store (sink dead letters)`);
    if (c.aggregate_rejected) lines.push(`${entry[0]}: ${c.aggregate_rejected} row(s) rejected by aggregates (aggregate dead letters)`);
  }
  for (const entry of Object.entries(samples)) {
    if (!entry[1].length) continue;
    lines.push(`${entry[0]} dead letters, first ${entry[1].length} (all: lake.${entry[0]}_error_records, lake/deadletter/${entry[0]}/):`);
    for (const reason of entry[1]) lines.push(`  - ${shortReason(reason)}`);
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
    lines.push(`log:        ${path.join(out, "runs", manifest.run_id + ".log")}  (JSON lines; --logLevel debug for every request)`);
  } else if (manifest.errors.length || Object.keys(samples).length) {
    lines.push(`manifest and log: runs/${manifest.run_id}.json, runs/${manifest.run_id}.log in the bucket; dead letters: lake.<entity>_error_records`);
  }
  return lines.join("\n");
}
