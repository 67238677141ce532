import { parDo, split, groupBy, withName, counter, flatten, P, windowParam, timestampParam, paneInfoParam, type PCollection, type Root } from "apache-beam";
import type { Instant, PaneInfo, Window, WindowedValue } from "apache-beam/values";
import type { EntitySchema } from "../model/entity-schema";
import type { Row } from "../model/row";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import type { SinkTarget } from "../model/backends";
import type { EntityConfig, SourceConfig } from "../model/source-config";
import { readRest, type ReadRestOutput } from "../sources/rest/read-rest";
import { sealForWorkers } from "../sources/rest/secrets";
import type { RestRecord, PageSummary } from "../sources/rest/work-item";
import { readMessages, type InboundMessage } from "../sources/messages";
import type { Slice, DateRange } from "../sources/rest/slices";
import { keyOf, pickLatest } from "../transforms/dedupe";
import { observeRecord, mergeObservations, planSchema, schemaColumnSpecs, compileLakeRenamer, type PathObservations, type SchemaPlan } from "../transforms/schema-contract";
import { compileEntityCleaner, childTables } from "./entity-cleaner";
import { counterName, VALUE_NOTES } from "./manifest";
import "./worker-modules";
import { aggregateEntity } from "./aggregates";
import { entityTables } from "./tables";
import { recordSchemaPlan } from "./schema-state";
import { singletonSide } from "./side-input";
import { writeLake, writeWarehouse, writeErrors, writeServing, writeHub, type SinkReport } from "../sinks/beam-sinks";

export interface EntityRun {
  source: SourceConfig;
  entities: readonly string[];
  slices?: Readonly<Record<string, readonly Slice[]>>;
  range?: DateRange;
  /** Persisted schema per entity, read by the driver before the graph (absent: the entity's first run). */
  schemas?: Readonly<Record<string, EntitySchema | undefined>>;
}

export interface GraphPlan {
  runId: string;
  target: SinkTarget;
  maxWorkers: number;
  runs: readonly EntityRun[];
  /** `run --limit N`: records per entity for a trial run (absent: no cap). */
  recordLimit?: number;
}

/** A clean row travels with its exploded children, so only the kept version's children land. */
interface CleanRecord {
  row: Row;
  children: Record<string, Row[]>;
}
type CleanedElement = { raw: Row } | { clean: CleanRecord } | { dead: DeadLetter };
type KeptElement = { kept: Row } | { record: CleanRecord };

/** The streaming micro-batch graph: one entity fed by a batch of messages instead of a REST read. */
export function buildMessageGraph(root: Root, plan: { runId: string; target: SinkTarget; source: SourceConfig; entity: string; messages: readonly InboundMessage[]; schema?: EntitySchema }): void {
  const read = root.apply(readMessages(`ReadMessages_${plan.entity}`, plan.messages, { source: plan.source.name, entity: plan.entity, runId: plan.runId, maxDepth: plan.source.maxDepth }) as never) as unknown as { records: PCollection<RestRecord>; deadLetters: PCollection<DeadLetter> };
  const fetchFailures = read.deadLetters.apply(readFailuresOf(plan.entity));
  const source = sealForWorkers(plan.source);
  entityBranch(plan.entity, source.entities[plan.entity], source, read.records, fetchFailures, { runId: plan.runId, target: plan.target, maxWorkers: 1, runs: [] }, plan.schema);
}

/**
 * Assembles the whole batch graph from the declarations: per source a REST read, per entity
 * the cleaning chain, dedupe, the three landing layers, dead letters and aggregates.
 * Nothing here is preset-specific.
 */
export function buildGraph(root: Root, plan: GraphPlan): void {
  for (const run of plan.runs) {
    // DoFns capture `${VAR}` references, never secret values (the graph and a template hold none).
    const source = sealForWorkers(run.source);
    // readRest returns a named composite whose output is a record of PCollections.
    const read = root.apply(readRest(source, { runId: plan.runId, entities: run.entities, slices: run.slices, range: run.range, maxWorkers: plan.maxWorkers, recordLimit: plan.recordLimit }) as never) as unknown as ReadRestOutput;
    for (const entityName of run.entities) {
      const entity = source.entities[entityName];
      const records = read.records.apply(withName(`Select_${entityName}`, parDo({
        process: function* (r: RestRecord) {
          if (r.entity === entityName) yield r;
        },
      })));
      // Each fetched page's request metadata (URL without secrets, status, page, fetched_at) lands
      // in the raw layer beside the records it brought.
      read.pages
        .apply(withName(`SelectPages_${entityName}`, parDo({
          process: function* (p: PageSummary, ctx: { pages: { increment: (n: number) => void }; nonFinite: { increment: (n: number) => void }; ignored: { increment: (n: number) => void } }) {
            if (p.entity !== entityName) return;
            ctx.pages.increment(1);
            if (p.non_finite_nulled) ctx.nonFinite.increment(p.non_finite_nulled);
            if (p.ignored) ctx.ignored.increment(1);
            yield p as unknown as Row;
          },
        }, { pages: counter(counterName(entityName, "pages")), nonFinite: counter(counterName(entityName, "non_finite_nulled")), ignored: counter(counterName(entityName, "ignored_pages")) })))
        .apply(writeLake(plan.target, "raw", `${entityName}_requests`, plan.runId, { dateField: "fetched_at" }));
      const fetchFailures = read.deadLetters.apply(readFailuresOf(entityName));
      entityBranch(entityName, entity, source, records, fetchFailures, plan, (run.schemas ?? {})[entityName]);
    }
  }
}

/**
 * An entity's dead letters from the read step, counted: a page that kept failing is a failed
 * page; a record refused while reading (not a JSON object) was still fetched.
 */
function readFailuresOf(entityName: string) {
  return withName(`SelectReadFailures_${entityName}`, parDo({
    process: function* (d: DeadLetter, ctx: { fetchFailed: { increment: (n: number) => void }; parseFailed: { increment: (n: number) => void }; fetched: { increment: (n: number) => void } }) {
      if (d.entity !== entityName) return;
      if (d.stage === "fetch") ctx.fetchFailed.increment(1);
      else {
        ctx.fetched.increment(1);
        ctx.parseFailed.increment(1);
      }
      yield d;
    },
  }, { fetchFailed: counter(counterName(entityName, "fetch_failed_pages")), parseFailed: counter(counterName(entityName, "parse_failed")), fetched: counter(counterName(entityName, "fetched")) }));
}

export function entityBranch(name: string, entity: EntityConfig, source: SourceConfig, records: PCollection<RestRecord>, fetchFailures: PCollection<DeadLetter>, plan: GraphPlan, persistedSchema?: EntitySchema): void {
  const runId = plan.runId;
  const target = plan.target;
  const maxRecordBytes = source.maxRecordBytes;
  const tables = entityTables(name, entity);
  const schemaPlan = planEntitySchema(name, entity, source, records, plan, persistedSchema);

  const cleaned = records
    .apply(withName(`Clean_${name}`, parDo({
      process: function* (this: { cleaner?: ReturnType<typeof compileEntityCleaner> }, r: RestRecord, ctx: Counters) {
        // Compiled with the first record: the run's schema plan is a side input, readable only here.
        if (this.cleaner === undefined) {
          this.cleaner = compileEntityCleaner(entity, { maxRecordBytes: maxRecordBytes, schema: ctx.schema.lookup() });
        }
        ctx.fetched.increment(1);
        if (r.non_finite_nulled) ctx.nonFinite.increment(r.non_finite_nulled);
        const result = this.cleaner.clean(r.record, { runId: runId, source: r._source, page: r._page, fetchedAt: r.fetched_at });
        if (result.raw) yield { raw: result.raw } as CleanedElement;
        const notes = result.notes;
        if (notes) for (const note of Object.keys(notes)) (ctx as unknown as NoteCounters)["note_" + note]?.increment(notes[note]);
        if (result.ok) {
          ctx.valid.increment(1);
          if (result.datesNulled) ctx.datesNulled.increment(result.datesNulled);
          if (result.schemaVariants) ctx.schemaVariants.increment(result.schemaVariants);
          if (result.schemaDiscarded) ctx.schemaDiscarded.increment(result.schemaDiscarded);
          yield { clean: { row: result.row, children: result.children } } as CleanedElement;
        } else {
          (result.stage === "normalize" ? ctx.normalizeFailed : result.stage === "parse" ? ctx.parseFailed : ctx.validateFailed).increment(1);
          if (result.schemaRefused) ctx.schemaRefused.increment(1);
          yield { dead: deadLetter({ stage: result.stage, error: result.reason, payload: result.payload, source: r._source, run_id: runId, entity: name }) } as CleanedElement;
        }
      },
    }, {
      fetched: counter(counterName(name, "fetched")),
      valid: counter(counterName(name, "valid")),
      parseFailed: counter(counterName(name, "parse_failed")),
      validateFailed: counter(counterName(name, "validate_failed")),
      normalizeFailed: counter(counterName(name, "normalize_failed")),
      datesNulled: counter(counterName(name, "optional_dates_nulled")),
      ...valueNoteCounters(name),
      nonFinite: counter(counterName(name, "non_finite_nulled")),
      schemaRefused: counter(counterName(name, "schema_rows_refused")),
      schemaDiscarded: counter(counterName(name, "schema_values_discarded")),
      schemaVariants: counter(counterName(name, "schema_variant_values")),
      schema: singletonSide(schemaPlan.plan, schemaPlan.fallback),
    })))
    .apply(withName(`SplitCleaned_${name}`, split<{ raw: Row; clean: CleanRecord; dead: DeadLetter }>(["raw", "clean", "dead"])));

  cleaned.raw.apply(writeLake(target, "raw", name, runId));
  cleaned.raw
    .apply(withName(`SanitizeLakeColumns_${name}`, parDo({
      process: function* (this: { rename?: (row: Row) => Row }, row: Row, ctx: { schema: { lookup: () => SchemaPlan } }) {
        if (this.rename === undefined) this.rename = compileLakeRenamer(ctx.schema.lookup());
        yield jsonNested(this.rename(row));
      },
    }, { schema: singletonSide(schemaPlan.plan, schemaPlan.fallback) })))
    .apply(writeWarehouse(target, "lake", tables.lake));

  const latest = cleaned.clean
    .apply(withName(`KeyByPrimaryKey_${name}`, groupBy((c: CleanRecord) => keyOf(c.row, entity.primaryKey))))
    .apply(withName(`KeepLatest_${name}`, parDo({
      process: function* (group: { key: string; value: Iterable<CleanRecord> }, ctx: { kept: { increment: (n: number) => void }; duplicates: { increment: (n: number) => void } }) {
        const versions = [...group.value];
        const picked = pickLatest(versions.map((v) => v.row), { primaryKey: entity.primaryKey, orderBy: entity.orderBy });
        ctx.kept.increment(picked.kept.length);
        ctx.duplicates.increment(picked.duplicates);
        for (const row of picked.kept) {
          yield { kept: row } as KeptElement;
          const winner = versions.find((v) => v.row === row);
          yield { record: { row: row, children: winner ? winner.children : {} } } as KeptElement;
        }
      },
    }, { kept: counter(counterName(name, "kept")), duplicates: counter(counterName(name, "duplicates")) })))
    .apply(withName(`SplitKept_${name}`, split<{ kept: Row; record: CleanRecord }>(["kept", "record"])));
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
  const hubWrites = latest.record.apply(writeHub(target, { ...tables.hub, orderBy: entity.orderBy }, children, {
    inserted: counterName(name, "hub_inserted"),
    updated: counterName(name, "hub_updated"),
    unchanged: counterName(name, "hub_unchanged"),
    olderIgnored: counterName(name, "hub_older_ignored"),
  }, { columns: singletonSide(hubColumns, schemaColumnSpecs(schemaPlan.fallback)) }))
    .apply(withName(`SplitHubWrites_${name}`, split<{ accepted: CleanRecord; merged: unknown }>(["accepted", "merged"])));
  const accepted = hubWrites.accepted;
  accepted
    .apply(withName(`AcceptedRows_${name}`, parDo({
      process: function* (r: CleanRecord) {
        yield r.row;
      },
    })))
    .apply(writeLake(target, "processed", name, runId, { dateField: entity.eventDate ?? "_ingested_at" }));
  for (const child of children) {
    accepted
      .apply(withName(`AcceptedChildren_${child.table.name}`, parDo({
        process: function* (r: CleanRecord) {
          yield* r.children[child.column] ?? [];
        },
      })))
      .apply(writeLake(target, "processed", child.table.name, runId));
  }

  const deadLetters: PCollection<DeadLetter>[] = [cleaned.dead, fetchFailures];
  if (entity.serving) {
    const reports = kept.apply(writeServing(target, entity.serving, { orderBy: entity.orderBy }));
    deadLetters.push(reports.apply(withName(`ServingFailures_${name}`, parDo({
      process: function* (report: SinkReport, ctx: { failed: { increment: (n: number) => void } }) {
        ctx.failed.increment(report.failed.length);
        for (const f of report.failed) {
          yield deadLetter({ stage: "sink", error: `serving ${report.location}${f.key ? ` row ${f.key}` : ""}: ${f.reason}`, payload: f.row, source: String(f.row._source ?? ""), run_id: runId, entity: name });
        }
      },
    }, { failed: counter(counterName(name, "serving_failed")) }))));
  }
  deadLetters.push(...aggregateEntity(name, entity, kept, hubWrites.merged, target, runId, fetchFailures));

  const allDead = P(deadLetters).apply(withName(`FlattenDeadLetters_${name}`, flatten<DeadLetter>()));
  (allDead as unknown as PCollection<Row>).apply(writeLake(target, "deadletter", name, runId, { dateField: "failed_at" }));
  allDead.apply(writeErrors(target, name));
}

interface Counters {
  fetched: { increment: (n: number) => void };
  valid: { increment: (n: number) => void };
  parseFailed: { increment: (n: number) => void };
  validateFailed: { increment: (n: number) => void };
  normalizeFailed: { increment: (n: number) => void };
  datesNulled: { increment: (n: number) => void };
  nonFinite: { increment: (n: number) => void };
  schemaRefused: { increment: (n: number) => void };
  schemaDiscarded: { increment: (n: number) => void };
  schemaVariants: { increment: (n: number) => void };
  schema: { lookup: () => SchemaPlan };
}

/**
 * The cleaner's value notes (sentinels, DST, precision, unprocessable) as `note_<name>` context
 * entries: Beam binds counters at the top level of a DoFn's context only.
 */
type NoteCounters = Record<string, { increment: (n: number) => void } | undefined>;

/** A counter per value note the cleaner reports, named as in the manifest. */
function valueNoteCounters(entityName: string): Record<string, ReturnType<typeof counter>> {
  const out: Record<string, ReturnType<typeof counter>> = {};
  for (const note of VALUE_NOTES) out["note_" + note] = counter(counterName(entityName, note));
  return out;
}

interface ObserveContext {
  window: { lookup: () => Window };
  timestamp: { lookup: () => Instant };
  pane: { lookup: () => PaneInfo };
}

interface ObserveState {
  acc: PathObservations | undefined;
  last: { windows: Window[]; timestamp: Instant; pane: PaneInfo } | undefined;
}

/**
 * The run's schema plan of an entity, decided once for the whole run: every record's paths and
 * types are observed (combined per bundle, then globally), and one step extends the persisted
 * schema with them (`planSchema`: sorted, so neither record order nor bundling matters) and
 * records the plan for the manifest and for `afterCommit`. `fallback` is the plan of a run
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
        this.acc = undefined;
        this.last = undefined;
      },
      process: function (this: ObserveState, r: RestRecord, ctx: ObserveContext) {
        const rec = r.record;
        if (rec !== null && typeof rec === "object" && !Array.isArray(rec)) {
          this.acc = mergeObservations(this.acc ?? {}, observeRecord(rec as Row, explode));
        }
        this.last = { windows: [ctx.window.lookup()], timestamp: ctx.timestamp.lookup(), pane: ctx.pane.lookup() };
        return undefined;
      },
      finishBundle: function (this: ObserveState) {
        const acc = this.acc;
        const last = this.last;
        this.acc = undefined;
        if (acc === undefined || last === undefined) return [];
        return [{ value: acc, windows: last.windows, timestamp: last.timestamp, pane: last.pane } as WindowedValue<PathObservations>];
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
