import { flatten, groupBy, impulse, parDo, withName, P, windowParam, paneInfoParam, type PCollection, type Root } from "apache-beam";
import type { PaneInfo, Window } from "apache-beam/values";
import { requireForSerialization } from "apache-beam/serialization";
import type { Lake, SinkTarget } from "../model/backends";
import type { SourceConfig } from "../model/source-config";
import { openLake, openWarehouse } from "../sinks/open-backends";
import type { SinkReport } from "../sinks/beam-sinks";
import { stopRequested } from "../sources/rest/stop";
import { mergeSecrets, openSecrets } from "../sources/rest/secrets";
import { redactDeep, variants } from "../sources/rest/auth/redact";
import { secretManagerValuesRead } from "../sources/rest/secret-manager";
import { advanceWatermark, recordBackfill } from "../sources/rest/state";
import type { Slice } from "../sources/rest/slices";
import { pathMapping } from "../transforms/schema-contract";
import { entityCounts, manifestChecks, outcomeRules, type EntityCounts, type RunManifest, type SchemaReport } from "./manifest";
import { persistSchemas, readSchemaPlan } from "./schema-state";
import { promoteCursorState } from "./cursor-state";
import { promoteReplayState } from "../sources/replay-state";
import { schemaReport } from "./schema-report";
import { sumTallies, type Tally } from "./tally";
import { finishRunLog } from "./run-log";

/**
 * The run commits itself, as the last stage of its own graph (the way Beam's I/O returns write
 * results): every sink emits what it wrote, every counting step emits per-bundle tallies, and one
 * grouped step, fed by all of them, runs once after everything else of the run (per window in a
 * windowed graph). It makes the run's lake files visible, promotes the run's pending state
 * (schemas, watermarks or backfilled slices, incremental cursors) when the run met every rule, and
 * writes `runs/<run_id>.json` and `.log` with counts taken from the data. The driver only reads
 * that manifest back, so a Flex Template launch, a portable runner and the direct runner finish
 * the same way. A graph that fails before this stage leaves nothing visible and the state as it was.
 */

/** What a sink wrote (its `SinkReport` without the refused rows, which went to the dead letters). */
export interface SinkResult {
  sink: SinkReport["sink"];
  /** Lake object path, `schema.table`, or serving table. */
  location: string;
  /** Rows written (for the lake: pending until this stage commits). */
  written: number;
}

/**
 * An input of the commit stage: counts, a sink's result, or a step that only signals it finished
 * (e.g. `schema:<entity>`: the run's schema plan is recorded). The stage runs once all are in.
 */
export type CommitInput = { tally: Tally } | { wrote: SinkResult } | { done: string };

/**
 * Run-scoped pending state that becomes permanent only when the run committed and met every
 * rule (no failed page, outcome rules met, not interrupted). One kind per entry; `promote` has
 * one call per kind, in the order given (schemas first, as the state beside them is read with them).
 */
export type Promotion =
  /** The schemas the run extended (pipeline/schema-state.ts `persistSchemas`). */
  | { kind: "schemas"; entities: string[] }
  /** An incremental run's slices: the watermark moves to their end (sources/rest/state.ts). */
  | { kind: "watermark"; source: string; entity: string; slices: Slice[] }
  /** A backfill's slices: recorded as fetched, the watermark untouched. */
  | { kind: "backfill"; source: string; entity: string; slices: Slice[] }
  /**
   * Incremental cursors (pipeline/cursor-state.ts): promoted also when the only error is pages that
   * kept failing, since the pending cursors leave out every series that stopped early (a failed
   * child keeps its parent's cursor); without that, one failing child would hold every parent.
   */
  | { kind: "cursors"; entities: string[] }
  /** The dead letters a replay took (sources/replay-state.ts): later replays skip them. */
  | { kind: "replayed"; entities: string[] };

/** Everything the stage needs, as plain data (it is serialized into the graph; no secret values). */
export interface CommitSpec {
  runId: string;
  /** ISO-8601 UTC. */
  startedAt: string;
  target: SinkTarget;
  runner: string;
  /** The run's options as the manifest shows them (already masked, see run.ts `publicOptions`). */
  options: Record<string, string>;
  sources: string[];
  entities: string[];
  /** The run's source configs sealed for workers (`${VAR}` references): resolved here only to mask their values. */
  sealedSources: SourceConfig[];
  /** Per entity, the largest dead-lettered share of fetched records (outcome rule). */
  maxDeadShare: Record<string, number>;
  /** Runs rolled back before this one started (pipeline/orphaned-runs.ts). */
  rolledBack: string[];
  promotions: Promotion[];
  /** `run --limit N`: a trial run of at most N records per entity (the manifest's `limited_to`). */
  limitedTo?: number;
}

const FETCH_FAILED = "some pages kept failing after retries: see the fetch dead letters; the pages before them were kept";

/** The environment variable naming a failpoint the commit stage honours (tests only). */
export const FAILPOINT_ENV = "API2LAKE_FAILPOINT";

/**
 * Throws when `API2LAKE_FAILPOINT` names `point`, failing the graph there. `before-commit`: the
 * sinks wrote, the commit stage has not started (a test of "nothing becomes visible"). Read on the
 * worker: on the direct and LOOPBACK runners the worker is this process.
 */
export function failpoint(point: "before-commit"): void {
  if (process.env[FAILPOINT_ENV] === point) throw new Error(`failpoint ${point} (${FAILPOINT_ENV}): the run stopped before its commit stage`);
}

/** Sink reports as commit inputs (refused rows dropped: they reached the dead letters already). */
export function sinkResults(label: string) {
  return withName(label, parDo({
    process: function* (report: SinkReport) {
      yield { wrote: { sink: report.sink, location: report.location, written: report.written } } as CommitInput;
    },
  }));
}

/**
 * Appends the commit stage to a graph: `inputs` (every sink's results, every tally, every
 * signal) flattened and grouped on one key, then `commitRun` once. A batch graph adds one element
 * of its own, so the stage runs even when the run fetched nothing. A windowed (streaming) graph
 * (`perWindow`) has no such element - it would sit in the global window, whose grouping never
 * fires in streaming - and commits once per window pane: the pane's lake files become visible
 * and its manifest is `runs/<run_id>-<window start>-p<pane index>.json`.
 */
export function applyCommitStage(root: Root, inputs: readonly PCollection<CommitInput>[], spec: CommitSpec, options: { perWindow?: boolean } = {}): void {
  const all = [...inputs];
  if (!options.perWindow) {
    all.push(root
      .apply(withName("StartCommit", impulse()))
      .apply(withName("SignalRunStarted", parDo({
        process: function* (_: Uint8Array) {
          yield { done: "run" } as CommitInput;
        },
      }))));
  }
  const perWindow = options.perWindow === true;
  P(all)
    .apply(withName("FlattenRunResults", flatten<CommitInput>()))
    .apply(withName("GatherRunResults", groupBy((_: CommitInput) => "run")))
    .apply(withName("CommitRun", parDo({
      process: async function (group: { key: string; value: Iterable<CommitInput> }, ctx: { window: { lookup: () => Window }; pane: { lookup: () => PaneInfo } }) {
        // Read before the first await: several elements may be in flight.
        const id = perWindow ? paneManifestId(spec.runId, ctx.window.lookup(), ctx.pane.lookup()) : undefined;
        await commitRun(spec, [...group.value], id);
        return [];
      },
    }, { window: windowParam(), pane: paneInfoParam() })));
}

/** `<run_id>-<window start, compact UTC>-p<pane index>`: one manifest per pane of a streaming job. */
export function paneManifestId(runId: string, window: Window, pane: PaneInfo): string {
  const start = (window as { start?: { toString(): string } }).start;
  const at = start === undefined ? "global" : new Date(Number(start.toString())).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${runId}-${at}-p${pane.index}`;
}

/**
 * The commit itself (see the module comment). Counts: the sum of the inputs' tallies; lake files:
 * the lake sink results. Errors (a failed page, an unmet outcome rule, counts that do not add
 * up, an interrupt, a promotion that failed) are listed in the manifest, which is written in every
 * case; the run's lake files become visible in every case (the pages before a failing one are
 * kept), its state only when there is no error. Returns the manifest as written (secrets masked).
 * @throws only when the failpoint is set or the manifest cannot be written.
 */
export async function commitRun(spec: CommitSpec, inputs: readonly CommitInput[], manifestId?: string): Promise<RunManifest> {
  failpoint("before-commit");
  const counts = sumTallies(inputs.flatMap((i) => ("tally" in i ? [i.tally] : [])));
  const lakeFiles = inputs.filter((i) => "wrote" in i && i.wrote.sink === "lake").length;
  const entities = entityCounts(counts, spec.entities);
  const checks = manifestChecks(entities);
  const outcome = outcomeRules(entities, spec.maxDeadShare);
  const errors: string[] = [];
  if (Object.values(entities).some((c) => c.fetch_failed_pages > 0)) errors.push(FETCH_FAILED);
  for (const rule of outcome.filter((r) => !r.ok && !r.rule.startsWith("no page kept failing"))) errors.push(`${rule.entity}: outcome rule not met: ${rule.rule}`);
  if (checks.some((c) => !c.ok)) errors.push("counts do not add up: " + checks.filter((c) => !c.ok).map((c) => `${c.entity}: ${c.rule}`).join("; "));
  // Interrupted (first SIGINT/SIGTERM): the pages in hand are committed, the state stays put.
  const interrupted = stopRequested();
  if (interrupted) errors.push("interrupted: fetching stopped early, the pages fetched before the stop were committed; watermarks were not advanced");
  const lake = await openLake(spec.target);
  try {
    await lake.commit(spec.runId);
    const onlyFetchFailures = errors.length === 1 && errors[0] === FETCH_FAILED;
    for (const promotion of spec.promotions) {
      if (errors.length === 0 || (onlyFetchFailures && promotion.kind === "cursors")) await promote(lake, spec.target, spec.runId, promotion);
    }
  } catch (error) {
    errors.push(`after the graph: ${(error as Error).message}`);
  }

  const nameMappings: Record<string, Record<string, string>> = {};
  const schemas: Record<string, SchemaReport> = {};
  for (const name of spec.entities) {
    const plan = await readSchemaPlan(lake, spec.runId, name);
    if (!plan) continue;
    nameMappings[name] = pathMapping(plan.schema);
    schemas[name] = schemaReport(plan);
  }
  const dataproducts: Record<string, number> = {};
  for (const key of Object.keys(counts).sort()) if (key.startsWith("dataproducts/")) dataproducts[key.slice("dataproducts/".length)] = counts[key];

  const manifest: RunManifest = {
    run_id: manifestId ?? spec.runId,
    status: interrupted ? "partial" : errors.length ? "failed" : "succeeded",
    committed: true,
    started_at: spec.startedAt,
    finished_at: new Date().toISOString(),
    runner: spec.runner,
    sink: spec.target.kind,
    sources: spec.sources,
    options: spec.options,
    entities: entities,
    name_mappings: nameMappings,
    schemas: schemas,
    dataproducts: dataproducts,
    checks: checks,
    lake_files: lakeFiles,
    errors: errors,
    outcome: outcome,
    dead_letter_samples: await deadLetterSamples(spec.target, spec.runId, entities),
    rolled_back_runs: spec.rolledBack,
    ...(spec.limitedTo !== undefined ? { limited_to: spec.limitedTo } : {}),
  };
  // Secrets are values: whatever an error message or a sample carried, none leaves in clear.
  // (including the Secret Manager values this worker read: sources/rest/secret-manager.ts)
  const secrets = mergeSecrets([...spec.sealedSources.map((s) => openSecrets(s).secrets), { values: secretManagerValuesRead().flatMap(variants), queryParams: [] }]);
  return recordManifest(lake, spec.target, redactDeep(manifest, secrets));
}

/** Makes one kind of the run's pending state permanent (see `Promotion`). */
export async function promote(lake: Lake, target: SinkTarget, runId: string, promotion: Promotion): Promise<void> {
  switch (promotion.kind) {
    case "schemas":
      await persistSchemas(lake, runId, promotion.entities);
      return;
    case "watermark":
      await advanceWatermark(lake, promotion.source, promotion.entity, { slices: promotion.slices });
      return;
    case "backfill":
      await recordBackfill(lake, promotion.source, promotion.entity, { slices: promotion.slices });
      return;
    case "cursors":
      await promoteCursorState(lake, runId, promotion.entities);
      return;
    case "replayed":
      await promoteReplayState(lake, runId, promotion.entities);
      return;
  }
}

/** The manifest path of a run, beside the lake (`runs/<run_id>.json`; its log is `.log`). */
export function manifestPath(runId: string): string {
  return `runs/${runId}.json`;
}

/** Writes the manifest and, beside it, the run's structured log (on GCS too). */
export async function recordManifest(lake: Lake, target: SinkTarget, manifest: RunManifest): Promise<RunManifest> {
  await lake.writeText(manifestPath(manifest.run_id), JSON.stringify(manifest, null, 2) + "\n");
  // The structured log of this process (pipeline/run-log.ts): on the direct and LOOPBACK runners the
  // driver's progress events too; on Dataflow the worker's own lines.
  await lake.writeText(`runs/${manifest.run_id}.log`, finishRunLog(manifest));
  return manifest;
}

/** The manifest a run's commit stage wrote, or undefined when there is none. */
export async function readManifest(lake: Lake, runId: string): Promise<RunManifest | undefined> {
  const text = await lake.readText(manifestPath(runId));
  return text === undefined ? undefined : (JSON.parse(text) as RunManifest);
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

// The stage's DoFn calls these through the module (they open backends, whose classes cannot be serialized).
requireForSerialization("api2lake/dist/pipeline/commit-stage", {
  commitRun: commitRun,
  paneManifestId: paneManifestId,
});
