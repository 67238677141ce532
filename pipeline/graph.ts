import { parDo, split, groupBy, withName, counter, flatten, P, type PCollection, type Root } from "apache-beam";
import type { Row } from "../model/row";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import type { SinkTarget } from "../model/backends";
import type { EntityConfig, SourceConfig } from "../model/source-config";
import { readRest, type ReadRestOutput } from "../sources/rest/read-rest";
import type { RestRecord, PageSummary } from "../sources/rest/work-item";
import { readMessages, type InboundMessage } from "../sources/messages";
import type { Slice, DateRange } from "../sources/rest/slices";
import { keyOf, pickLatest } from "../transforms/dedupe";
import { createRenamer } from "../transforms/names";
import { compileEntityCleaner, childTables } from "./entity-cleaner";
import { counterName } from "./manifest";
import "./worker-modules";
import { aggregateEntity } from "./aggregates";
import { entityTables } from "./tables";
import { recordNameMapping } from "./name-mapping";
import { writeLake, writeWarehouse, writeErrors, writeServing, writeHub, type SinkReport } from "../sinks/beam-sinks";

export interface EntityRun {
  source: SourceConfig;
  entities: readonly string[];
  slices?: Readonly<Record<string, readonly Slice[]>>;
  range?: DateRange;
}

export interface GraphPlan {
  runId: string;
  target: SinkTarget;
  maxWorkers: number;
  runs: readonly EntityRun[];
}

/** A clean row travels with its exploded children, so only the kept version's children land. */
interface CleanRecord {
  row: Row;
  children: Record<string, Row[]>;
}
type CleanedElement = { raw: Row } | { clean: CleanRecord } | { dead: DeadLetter } | { names: Record<string, string> };
type KeptElement = { kept: Row } | { record: CleanRecord };

/** The streaming micro-batch graph: one entity fed by a batch of messages instead of a REST read. */
export function buildMessageGraph(root: Root, plan: { runId: string; target: SinkTarget; source: SourceConfig; entity: string; messages: readonly InboundMessage[] }): void {
  const read = root.apply(readMessages(`ReadMessages_${plan.entity}`, plan.messages, { source: plan.source.name, entity: plan.entity, runId: plan.runId }) as never) as unknown as { records: PCollection<RestRecord>; deadLetters: PCollection<DeadLetter> };
  const fetchFailures = read.deadLetters.apply(readFailuresOf(plan.entity));
  entityBranch(plan.entity, plan.source.entities[plan.entity], plan.source, read.records, fetchFailures, { runId: plan.runId, target: plan.target, maxWorkers: 1, runs: [] });
}

/**
 * Assembles the whole batch graph from the declarations: per source a REST read, per entity
 * the cleaning chain, dedupe, the three landing layers, dead letters and aggregates.
 * Nothing here is preset-specific.
 */
export function buildGraph(root: Root, plan: GraphPlan): void {
  for (const run of plan.runs) {
    const source = run.source;
    // readRest returns a named composite whose output is a record of PCollections.
    const read = root.apply(readRest(source, { runId: plan.runId, entities: run.entities, slices: run.slices, range: run.range, maxWorkers: plan.maxWorkers }) as never) as unknown as ReadRestOutput;
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
          process: function* (p: PageSummary, ctx: { pages: { increment: (n: number) => void } }) {
            if (p.entity !== entityName) return;
            ctx.pages.increment(1);
            yield p as unknown as Row;
          },
        }, { pages: counter(counterName(entityName, "pages")) })))
        .apply(writeLake(plan.target, "raw", `${entityName}_requests`, plan.runId, { dateField: "fetched_at" }));
      const fetchFailures = read.deadLetters.apply(readFailuresOf(entityName));
      entityBranch(entityName, entity, source, records, fetchFailures, plan);
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

export function entityBranch(name: string, entity: EntityConfig, source: SourceConfig, records: PCollection<RestRecord>, fetchFailures: PCollection<DeadLetter>, plan: GraphPlan): void {
  const runId = plan.runId;
  const target = plan.target;
  const maxRecordBytes = source.maxRecordBytes;
  const tables = entityTables(name, entity);

  const cleaned = records
    .apply(withName(`Clean_${name}`, parDo({
      startBundle: function (this: { cleaner?: ReturnType<typeof compileEntityCleaner> }) {
        this.cleaner = compileEntityCleaner(entity, { maxRecordBytes: maxRecordBytes });
      },
      process: function* (this: { cleaner: ReturnType<typeof compileEntityCleaner> }, r: RestRecord, ctx: Counters) {
        ctx.fetched.increment(1);
        const result = this.cleaner.clean(r.record, { runId: runId, source: r._source, page: r._page, fetchedAt: r.fetched_at });
        if (result.raw) yield { raw: result.raw } as CleanedElement;
        if (result.ok) {
          ctx.valid.increment(1);
          if (result.datesNulled) ctx.datesNulled.increment(result.datesNulled);
          if (result.newNames) yield { names: result.newNames } as CleanedElement;
          yield { clean: { row: result.row, children: result.children } } as CleanedElement;
        } else {
          (result.stage === "normalize" ? ctx.normalizeFailed : result.stage === "parse" ? ctx.parseFailed : ctx.validateFailed).increment(1);
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
    })))
    .apply(withName(`SplitCleaned_${name}`, split<{ raw: Row; clean: CleanRecord; dead: DeadLetter; names: Record<string, string> }>(["raw", "clean", "dead", "names"])));

  // Each key set's name mapping, merged in one place and written once for the run's manifest.
  cleaned.names
    .apply(withName(`GatherNames_${name}`, groupBy((_: Record<string, string>) => name)))
    .apply(withName(`RecordNames_${name}`, parDo({
      process: async function (group: { key: string; value: Iterable<Record<string, string>> }) {
        const merged: Record<string, string> = {};
        for (const m of group.value) Object.assign(merged, m);
        await recordNameMapping(target, runId, name, merged);
        return [];
      },
    })));

  cleaned.raw.apply(writeLake(target, "raw", name, runId));
  cleaned.raw
    .apply(withName(`SanitizeLakeColumns_${name}`, parDo({
      startBundle: function (this: { rename?: (row: Row) => Row }) {
        this.rename = createRenamer();
      },
      process: function* (this: { rename: (row: Row) => Row }, row: Row) {
        yield jsonNested(this.rename(row));
      },
    })))
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
  const accepted = latest.record.apply(writeHub(target, { ...tables.hub, orderBy: entity.orderBy }, children, {
    inserted: counterName(name, "hub_inserted"),
    updated: counterName(name, "hub_updated"),
    unchanged: counterName(name, "hub_unchanged"),
    olderIgnored: counterName(name, "hub_older_ignored"),
  }));
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
  deadLetters.push(...aggregateEntity(name, entity, kept, target, runId, fetchFailures));

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
}

/** The lake table keeps raw values: nested ones as JSON text (its column names are sanitized first). */
function jsonNested(row: Row): Row {
  for (const key of Object.keys(row)) {
    const v = row[key];
    if (v !== null && typeof v === "object") row[key] = JSON.stringify(v);
  }
  return row;
}
