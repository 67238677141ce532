import { parDo, split, groupBy, withName, flatten, P, windowParam, timestampParam, paneInfoParam, type PCollection, type Root } from "apache-beam";
import type { Instant, PaneInfo, Window, WindowedValue } from "apache-beam/values";
import type { EntitySchema } from "../model/entity-schema";
import type { Row } from "../model/row";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import { emitProgress } from "../model/progress-events";
import type { SinkTarget } from "../model/backends";
import type { EntityConfig, SourceConfig } from "../model/source-config";
import { readRest, type ReadRestOutput } from "../sources/rest/read-rest";
import { sealForWorkers } from "../sources/rest/secrets";
import type { RestRecord, PageSummary } from "../sources/rest/work-item";
import { readMessages, type InboundMessage } from "../sources/messages";
import { readRawLake } from "../sources/raw-lake";
import { readDeadLetterLake } from "../sources/dead-letter-lake";
import type { Slice, DateRange } from "../sources/rest/slices";
import { keyOf, pickLatest } from "../transforms/dedupe";
import { observeRecord, mergeObservations, planSchema, schemaColumnSpecs, compileLakeRenamer, type PathObservations, type SchemaPlan } from "../transforms/schema-contract";
import { childTables } from "./entity-cleaner";
import { openCleanStep, type CleanRecord, type CleanStep, type CleanStepSpec } from "./clean-step";
import { counterName, type CounterName } from "./manifest";
import { addTally, lastSeen, tallyEach, tallyOut, windowParams, type LastSeen, type Tally, type WindowLookups } from "./tally";
import { sinkResults, type CommitInput } from "./commit-stage";
import "./worker-modules";
import { aggregateEntity } from "./aggregates";
import { entityTables } from "./tables";
import { recordSchemaPlan } from "./schema-state";
import { recordCursorCandidates } from "./cursor-state";
import type { CommittedCursors } from "../sources/rest/work-item";
import type { PendingCursors } from "../sources/rest/state";
import { singletonSide } from "./side-input";
import { writeLake, writeWarehouse, writeErrors, writeServing, writeHub, type SinkReport } from "../sinks/beam-sinks";

export interface EntityRun {
  source: SourceConfig;
  entities: readonly string[];
  slices?: Readonly<Record<string, readonly Slice[]>>;
  range?: DateRange;
  /** Persisted schema per entity, read by the driver before the graph (absent: the entity's first run). */
  schemas?: Readonly<Record<string, EntitySchema | undefined>>;
  /** Committed cursors of the incremental entities, read by the driver before the graph. */
  cursors?: Readonly<Record<string, CommittedCursors>>;
}

export interface GraphPlan {
  runId: string;
  target: SinkTarget;
  maxWorkers: number;
  runs: readonly EntityRun[];
  /** Read records from the lake instead of the API (absent: a REST read); only the read step differs. */
  read?: LakeRead;
  /** `run --limit N`: records per entity for a trial run (absent: no cap). */
  recordLimit?: number;
  /** Worker threads of each cleaning step (direct runner only, see pipeline/clean-step.ts; absent: 0, in place). */
  cleanWorkers?: number;
}

/**
 * Where a run reads records when it does not call the API: `raw` rebuilds from the raw lake
 * (`--from-raw`; `from`/`to` are inclusive `yyyy-MM-dd` days of its `dt=` partitions),
 * `deadletters` replays an entity's dead letters (only run `run`'s when given).
 */
export type LakeRead = { kind: "raw"; from?: string; to?: string } | { kind: "deadletters"; run?: string };

type KeptElement = { kept: Row } | { record: CleanRecord } | { tally: Tally };

/** The streaming micro-batch graph: one entity fed by a batch of messages instead of a REST read. */
export function buildMessageGraph(root: Root, plan: { runId: string; target: SinkTarget; source: SourceConfig; entity: string; messages: readonly InboundMessage[]; schema?: EntitySchema }): PCollection<CommitInput>[] {
  const read = root.apply(readMessages(`ReadMessages_${plan.entity}`, plan.messages, { source: plan.source.name, entity: plan.entity, runId: plan.runId, maxDepth: plan.source.maxDepth }) as never) as unknown as { records: PCollection<RestRecord>; deadLetters: PCollection<DeadLetter> };
  const fetchFailures = read.deadLetters.apply(readFailuresOf(plan.entity));
  const source = sealForWorkers(plan.source);
  return entityBranch(plan.entity, source.entities[plan.entity], source, read.records, fetchFailures, { runId: plan.runId, target: plan.target, maxWorkers: 1, runs: [] }, plan.schema);
}

/**
 * Assembles the whole batch graph from the declarations: per source a REST read, per entity
 * the cleaning chain, dedupe, the three landing layers, dead letters and aggregates.
 * Nothing here is preset-specific. Returns what the commit stage needs (pipeline/commit-stage.ts):
 * every sink's results and every tally.
 */
export function buildGraph(root: Root, plan: GraphPlan): PCollection<CommitInput>[] {
  const results: PCollection<CommitInput>[] = [];
  for (const run of plan.runs) {
    // DoFns capture `${VAR}` references, never secret values (the graph and a template hold none).
    const source = sealForWorkers(run.source);
    // readRest returns a named composite whose output is a record of PCollections.
    const read = plan.read
      ? readFromLake(root, plan.read, plan, source.name, run.entities)
      : root.apply(readRest(source, { runId: plan.runId, entities: run.entities, slices: run.slices, range: run.range, maxWorkers: plan.maxWorkers, cursors: run.cursors, recordLimit: plan.recordLimit }) as never) as unknown as ReadRestOutput;
    // The commit stage waits for the run's pending cursors to be recorded (promoted with the run).
    // A run that reads the lake fetches nothing: no cursor moves.
    if (plan.read === undefined) {
      results.push(recordCursorCandidates(read.cursors, plan.target, plan.runId, source.name).apply(withName(`CursorsRecorded_${source.name}`, parDo({
        process: function* (_: PendingCursors) {
          yield { done: "cursors" } as CommitInput;
        },
      }))));
    }
    for (const entityName of run.entities) {
      const entity = source.entities[entityName];
      const records = read.records.apply(withName(`Select_${entityName}`, parDo({
        process: function* (r: RestRecord) {
          if (r.entity === entityName) yield r;
        },
      })));
      // Each fetched page's request metadata (URL without secrets, status, page, fetched_at) lands
      // in the raw layer beside the records it brought.
      const pages = read.pages.apply(withName(`SelectPages_${entityName}`, parDo({
        process: function* (p: PageSummary) {
          if (p.entity === entityName) yield p;
        },
      })));
      const names = counterNames(entityName, ["pages", "non_finite_nulled", "ignored_pages"]);
      results.push(pages.apply(tallyEach(`TallyPages_${entityName}`, (p: PageSummary, tally: Tally) => {
        addTally(tally, names.pages, 1);
        if (p.non_finite_nulled) addTally(tally, names.non_finite_nulled, p.non_finite_nulled);
        if (p.ignored) addTally(tally, names.ignored_pages, 1);
      })));
      results.push((pages as unknown as PCollection<Row>)
        .apply(writeLake(plan.target, "raw", `${entityName}_requests`, plan.runId, { dateField: "fetched_at" }))
        .apply(sinkResults(`RequestsWritten_${entityName}`)));
      const fetchFailures = read.deadLetters.apply(readFailuresOf(entityName));
      results.push(...entityBranch(entityName, entity, source, records, fetchFailures, plan, (run.schemas ?? {})[entityName]));
    }
  }
  return results;
}

/** Each counter's full name (`<entity>/<counter>`), computed once so DoFns capture plain strings. */
function counterNames<N extends CounterName>(entity: string, counters: readonly N[]): Record<N, string> {
  const out = {} as Record<N, string>;
  for (const c of counters) out[c] = counterName(entity, c);
  return out;
}

/** An entity's dead letters from the read step (counted in `entityBranch`). */
export function readFailuresOf(entityName: string) {
  return withName(`SelectReadFailures_${entityName}`, parDo({
    process: function* (d: DeadLetter) {
      if (d.entity === entityName) yield d;
    },
  }));
}

/** The lake read that replaces a REST read (a replay reads one entity: the command checks it). */
function readFromLake(root: Root, read: LakeRead, plan: GraphPlan, source: string, entities: readonly string[]): ReadRestOutput {
  if (read.kind === "raw") {
    const days = { ...(read.from === undefined ? {} : { from: read.from }), ...(read.to === undefined ? {} : { to: read.to }) };
    return root.apply(readRawLake(plan.target, source, { runId: plan.runId, entities: entities, days: days }) as never) as unknown as ReadRestOutput;
  }
  if (entities.length !== 1) throw new Error(`a dead-letter replay reads one entity, got ${entities.length}`);
  const options = read.run === undefined ? { runId: plan.runId } : { runId: plan.runId, run: read.run };
  return root.apply(readDeadLetterLake(plan.target, source, entities[0], options) as never) as unknown as ReadRestOutput;
}

/**
 * An entity's cleaning chain, dedupe, landing layers, dead letters and aggregates. Returns the
 * commit stage's inputs: every sink's results, the per-bundle tallies of every count the
 * manifest has, and the schema plan's "recorded" signal.
 */
export function entityBranch(name: string, entity: EntityConfig, source: SourceConfig, records: PCollection<RestRecord>, fetchFailures: PCollection<DeadLetter>, plan: GraphPlan, persistedSchema?: EntitySchema): PCollection<CommitInput>[] {
  const runId = plan.runId;
  const target = plan.target;
  const maxRecordBytes = source.maxRecordBytes;
  const tables = entityTables(name, entity);
  const schemaPlan = planEntitySchema(name, entity, source, records, plan, persistedSchema);
  const results: PCollection<CommitInput>[] = [];
  results.push(schemaPlan.plan.apply(withName(`SchemaRecorded_${name}`, parDo({
    process: function* (_: SchemaPlan) {
      yield { done: `schema:${name}` } as CommitInput;
    },
  }))));
  // A page that kept failing is a failed page; a record refused while reading (not a JSON object) was still fetched.
  const readNames = counterNames(name, ["fetch_failed_pages", "parse_failed", "fetched"]);
  results.push(fetchFailures.apply(tallyEach(`TallyReadFailures_${name}`, (d: DeadLetter, tally: Tally) => {
    if (d.stage === "fetch") addTally(tally, readNames.fetch_failed_pages, 1);
    else {
      addTally(tally, readNames.fetched, 1);
      addTally(tally, readNames.parse_failed, 1);
    }
  })));
  const step: CleanStepSpec = { entityName: name, entity: entity, runId: runId, maxRecordBytes: maxRecordBytes, workers: plan.cleanWorkers ?? 0 };
  const cleaned = records
    .apply(withName(`Clean_${name}`, parDo({
      // One element at a time: with workers, `add` returns the oldest batch's outputs as a Promise only when
      // enough batches are in flight, and waiting for it is the backpressure (outputs stay in input order).
      maxConcurrency: 1,
      process: function (this: CleanState, r: RestRecord, ctx: CleanContext) {
        // Opened with the first record: the run's schema plan is a side input, readable only here.
        if (this.step === undefined) this.step = openCleanStep(step, ctx.schema.lookup());
        return this.step.add(r, lastSeen(ctx));
      },
      finishBundle: function (this: CleanState) {
        return this.step === undefined ? [] : this.step.finish();
      },
    }, { ...windowParams(), schema: singletonSide(schemaPlan.plan, schemaPlan.fallback) })))
    .apply(withName(`SplitCleaned_${name}`, split<{ raw: Row; clean: CleanRecord; dead: DeadLetter; tally: Tally }>(["raw", "clean", "dead", "tally"])));
  results.push(cleaned.tally.apply(asTally(`CleanCounts_${name}`)));

  // A run that reads the lake (rebuild, replay) writes no raw files: the raw layer already holds
  // those payloads. Its lake-table append below skips them by `_payload_hash` (a lost warehouse is refilled).
  if (plan.read === undefined) results.push(cleaned.raw.apply(writeLake(target, "raw", name, runId)).apply(sinkResults(`RawWritten_${name}`)));
  results.push(cleaned.raw
    .apply(withName(`SanitizeLakeColumns_${name}`, parDo({
      process: function* (this: { rename?: (row: Row) => Row }, row: Row, ctx: { schema: { lookup: () => SchemaPlan } }) {
        if (this.rename === undefined) this.rename = compileLakeRenamer(ctx.schema.lookup());
        yield jsonNested(this.rename(row));
      },
    }, { schema: singletonSide(schemaPlan.plan, schemaPlan.fallback) })))
    .apply(writeWarehouse(target, "lake", tables.lake))
    .apply(sinkResults(`LakeTableWritten_${name}`)));

  const keptNames = counterNames(name, ["kept", "duplicates"]);
  const latest = cleaned.clean
    .apply(withName(`KeyByPrimaryKey_${name}`, groupBy((c: CleanRecord) => keyOf(c.row, entity.primaryKey))))
    .apply(withName(`KeepLatest_${name}`, parDo({
      startBundle: function (this: TallyState) {
        this.tally = {};
        this.last = undefined;
      },
      process: function* (this: TallyState, group: { key: string; value: Iterable<CleanRecord> }, ctx: WindowLookups) {
        const versions = [...group.value];
        const picked = pickLatest(versions.map((v) => v.row), { primaryKey: entity.primaryKey, orderBy: entity.orderBy });
        if (this.tally === undefined) this.tally = {};
        this.last = lastSeen(ctx);
        addTally(this.tally, keptNames.kept, picked.kept.length);
        addTally(this.tally, keptNames.duplicates, picked.duplicates);
        emitProgress({ kind: "stage", entity: name, stage: "kept", count: picked.kept.length });
        for (const row of picked.kept) {
          yield { kept: row } as KeptElement;
          const winner = versions.find((v) => v.row === row);
          yield { record: { row: row, children: winner ? winner.children : {} } } as KeptElement;
        }
      },
      finishBundle: function (this: TallyState) {
        const out = tallyOut(this.tally, this.last, (t: Tally) => ({ tally: t }) as KeptElement);
        this.tally = undefined;
        this.last = undefined;
        return out;
      },
    }, windowParams())))
    .apply(withName(`SplitKept_${name}`, split<{ kept: Row; record: CleanRecord; tally: Tally }>(["kept", "record", "tally"])));
  results.push(latest.tally.apply(asTally(`DedupeCounts_${name}`)));
  const kept = latest.kept;

  // The hub merge keeps only versions newer than the stored ones (with orderBy) and replaces an
  // accepted parent's children; the processed layer gets exactly the versions it accepted.
  const children = childTables(name, entity).map((child) => ({
    column: child.column,
    table: { name: child.table, columns: [{ name: "_index", type: "integer" as const }, ...tables.lineage], primaryKey: child.primaryKey },
    parentKey: child.primaryKey.filter((k) => k !== "_index"),
  }));
  // Undeclared columns get the types the run's schema gave them (declared ones are in tables.hub).
  const hubColumns = schemaPlan.plan.apply(withName(`HubColumns_${name}`, parDo({
    process: function* (p: SchemaPlan) {
      yield schemaColumnSpecs(p);
    },
  })));
  // A rebuild re-cleans the stored payloads: the hub takes the new rows even where the payload is the same.
  const rewrite = plan.read?.kind === "raw" ? { rewriteUnchanged: true } : {};
  const hubWrites = latest.record.apply(writeHub(target, { ...tables.hub, orderBy: entity.orderBy, ...rewrite }, children, {
    columns: singletonSide(hubColumns, schemaColumnSpecs(schemaPlan.fallback)),
  }))
    .apply(withName(`SplitHubWrites_${name}`, split<{ accepted: CleanRecord; merged: HubMergeCounts }>(["accepted", "merged"])));
  const hubNames = counterNames(name, ["hub_inserted", "hub_updated", "hub_unchanged", "hub_older_ignored"]);
  results.push(hubWrites.merged.apply(withName(`HubCounts_${name}`, parDo({
    process: function* (m: HubMergeCounts) {
      const tally: Tally = {};
      addTally(tally, hubNames.hub_inserted, m.inserted);
      addTally(tally, hubNames.hub_updated, m.updated);
      addTally(tally, hubNames.hub_unchanged, m.unchanged);
      addTally(tally, hubNames.hub_older_ignored, m.olderIgnored);
      yield { tally: tally } as CommitInput;
    },
  }))));
  const accepted = hubWrites.accepted;
  results.push(accepted
    .apply(withName(`AcceptedRows_${name}`, parDo({
      process: function* (r: CleanRecord) {
        yield r.row;
      },
    })))
    .apply(writeLake(target, "processed", name, runId, { dateField: entity.eventDate ?? "_ingested_at" }))
    .apply(sinkResults(`ProcessedWritten_${name}`)));
  for (const child of children) {
    results.push(accepted
      .apply(withName(`AcceptedChildren_${child.table.name}`, parDo({
        process: function* (r: CleanRecord) {
          yield* r.children[child.column] ?? [];
        },
      })))
      .apply(writeLake(target, "processed", child.table.name, runId))
      .apply(sinkResults(`ProcessedWritten_${child.table.name}`)));
  }

  const deadLetters: PCollection<DeadLetter>[] = [cleaned.dead, fetchFailures];
  if (entity.serving) {
    const reports = kept.apply(writeServing(target, entity.serving, { orderBy: entity.orderBy }));
    results.push(reports.apply(sinkResults(`ServingWritten_${name}`)));
    const servingFailed = counterName(name, "serving_failed");
    results.push(reports.apply(tallyEach(`TallyServingFailures_${name}`, (report: SinkReport, tally: Tally) => {
      addTally(tally, servingFailed, report.failed.length);
    })));
    deadLetters.push(reports.apply(withName(`ServingFailures_${name}`, parDo({
      process: function* (report: SinkReport) {
        for (const f of report.failed) {
          yield deadLetter({ stage: "sink", error: `serving ${report.location}${f.key ? ` row ${f.key}` : ""}: ${f.reason}`, payload: f.row, source: String(f.row._source ?? ""), run_id: runId, entity: name });
        }
      },
    }))));
  }
  const aggregated = aggregateEntity(name, entity, kept, hubWrites.merged, target, runId, fetchFailures);
  deadLetters.push(...aggregated.rejected);
  results.push(...aggregated.results);

  const allDead = P(deadLetters).apply(withName(`FlattenDeadLetters_${name}`, flatten<DeadLetter>()));
  results.push((allDead as unknown as PCollection<Row>)
    .apply(writeLake(target, "deadletter", name, runId, { dateField: "failed_at" }))
    .apply(sinkResults(`DeadLettersWritten_${name}`)));
  results.push(allDead.apply(writeErrors(target, name)).apply(sinkResults(`ErrorRecordsWritten_${name}`)));
  return results;
}

/** The hub merge's counts, one element per merge (sinks/beam-sinks.ts `writeHub`). */
type HubMergeCounts = { inserted: number; updated: number; unchanged: number; olderIgnored: number };

/** Per-bundle tally state of a DoFn that also emits its main output (see pipeline/tally.ts). */
interface TallyState {
  tally: Tally | undefined;
  last: LastSeen | undefined;
}

interface CleanState {
  step?: CleanStep;
}

interface CleanContext extends WindowLookups {
  schema: { lookup: () => SchemaPlan };
}

/** A split's `tally` output as commit inputs. */
function asTally(label: string) {
  return withName(label, parDo({
    process: function* (t: Tally) {
      yield { tally: t } as CommitInput;
    },
  }));
}

interface ObserveContext {
  window: { lookup: () => Window };
  timestamp: { lookup: () => Instant };
  pane: { lookup: () => PaneInfo };
}

interface ObserveState {
  /** Per window of the bundle (a streaming bundle may hold several days): observations, and where to emit them. */
  acc: Map<string, { observed: PathObservations; windows: Window[]; timestamp: Instant; pane: PaneInfo }>;
}

/**
 * The run's schema plan of an entity, decided once for the whole run: every record's paths and
 * types are observed (combined per bundle, then globally), and one step extends the persisted
 * schema with them (`planSchema`: sorted, so neither record order nor bundling matters) and
 * records the plan for the manifest and for the commit stage's promotion (pipeline/commit-stage.ts). `fallback` is the plan of a run
 * without records (the side input's default).
 */
function planEntitySchema(
  name: string,
  entity: EntityConfig,
  source: SourceConfig,
  records: PCollection<RestRecord>,
  plan: GraphPlan,
  persisted: EntitySchema | undefined,
): { plan: PCollection<SchemaPlan>; fallback: SchemaPlan } {
  const ids = { source: source.name, entity: name, runId: plan.runId };
  const explode = entity.explode;
  const target = plan.target;
  const runId = plan.runId;
  const planned = records
    .apply(withName(`ObservePaths_${name}`, parDo({
      startBundle: function (this: ObserveState) {
        this.acc = new Map();
      },
      process: function (this: ObserveState, r: RestRecord, ctx: ObserveContext) {
        const rec = r.record;
        if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return undefined;
        const window = ctx.window.lookup() as Window & { start?: Instant; end?: Instant };
        const key = window.end === undefined ? "global" : `${String(window.start)}/${String(window.end)}`;
        let entry = this.acc.get(key);
        if (entry === undefined) {
          entry = { observed: {}, windows: [window], timestamp: ctx.timestamp.lookup(), pane: ctx.pane.lookup() };
          this.acc.set(key, entry);
        }
        entry.observed = mergeObservations(entry.observed, observeRecord(rec as Row, explode));
        return undefined;
      },
      finishBundle: function (this: ObserveState) {
        const out: WindowedValue<PathObservations>[] = [];
        for (const entry of this.acc.values()) out.push({ value: entry.observed, windows: entry.windows, timestamp: entry.timestamp, pane: entry.pane });
        this.acc = new Map();
        return out;
      },
    }, { window: windowParam(), timestamp: timestampParam(), pane: paneInfoParam() })))
    .apply(withName(`GatherPaths_${name}`, groupBy((_: PathObservations) => name)))
    .apply(withName(`PlanSchema_${name}`, parDo({
      process: async function (group: { key: string; value: Iterable<PathObservations> }) {
        const merged: PathObservations = {};
        for (const o of group.value) mergeObservations(merged, o);
        const decided = planSchema(persisted, merged, entity, ids);
        await recordSchemaPlan(target, runId, name, decided);
        return [decided];
      },
    })));
  return { plan: planned, fallback: planSchema(persisted, {}, entity, ids) };
}

/** The lake table keeps raw values: nested ones as JSON text (its column names are sanitized first). */
function jsonNested(row: Row): Row {
  for (const key of Object.keys(row)) {
    const v = row[key];
    if (v !== null && typeof v === "object") row[key] = JSON.stringify(v);
  }
  return row;
}
