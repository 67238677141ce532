import * as path from "path";
import { Piscina } from "piscina";
import type { WindowedValue } from "apache-beam/values";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import { deadLetter, type DeadLetter } from "../model/dead-letter";
import { emitProgress } from "../model/progress-events";
import type { EntityConfig } from "../model/source-config";
import type { RestRecord } from "../sources/rest/work-item";
import type { SchemaPlan } from "../transforms/schema-contract";
import { compileEntityCleaner, type CleanBatch, type Cleaned, type CleanerSettings, type RecordOrigin } from "./entity-cleaner";
import { counterName, VALUE_NOTES, type CounterName } from "./manifest";
import { addTally, type LastSeen, type Tally } from "./tally";

/** A clean row travels with its exploded children, so only the kept version's children land. */
export interface CleanRecord {
  row: Row;
  children: Record<string, Row[]>;
}

/** What the cleaning step emits: each record's raw row, its clean row or its dead letter, and per bundle a tally. */
export type CleanedElement = { raw: Row } | { clean: CleanRecord } | { dead: DeadLetter } | { tally: Tally };

export interface CleanStepSpec {
  entityName: string;
  entity: EntityConfig;
  runId: string;
  maxRecordBytes: number;
  /**
   * Worker threads that clean (0: on the calling thread). Only the direct runner asks for them:
   * it runs a batch as one bundle on one thread, while a portable runner or Dataflow already
   * spreads bundles over worker processes.
   */
  workers: number;
}

/**
 * Records per batch sent to a worker (at least; a batch ends on a page boundary). Big enough that
 * a message's fixed cost (~50 us) is noise, small enough that a few batches in flight stay a few MB.
 */
const BATCH_RECORDS = 500;

/**
 * Records a step cleans in place before it starts its worker threads (at the next page boundary):
 * a small run (a trial, a test, an hourly increment of a few pages) never pays for starting them
 * (~0.3 s of CPU each to load the cleaner's modules). `API2LAKE_CLEAN_INLINE_RECORDS` overrides it (tests: 0).
 */
const INLINE_RECORDS = 2_000;

function inlineRecords(): number {
  const fromEnv = process.env.API2LAKE_CLEAN_INLINE_RECORDS;
  return fromEnv !== undefined && /^[0-9]+$/.test(fromEnv) ? Number(fromEnv) : INLINE_RECORDS;
}

/** Pools still open, closed by `closeCleanPools` when a run ends however it ends. */
const OPEN_POOLS = new Set<Piscina>();

/**
 * The cleaning step of one entity for one bundle: runs `compileEntityCleaner` over each record
 * (in place, or in a pool of worker threads), tallies every manifest count, reports progress once
 * per page, and turns each result into its outputs: the raw row (raw lake, lake table), the clean
 * record (dedupe) or a dead letter.
 *
 * With workers, records are cut into batches of whole pages (the cleaner counts DST overlap
 * occurrences per page, so a page must stay on one thread, in order) and outputs come back in
 * the order of the input: at most `2 x workers` batches are in flight, and `add` returns the
 * oldest batch's outputs as a Promise when that limit is reached (the caller's backpressure).
 */
export class CleanStep {
  private readonly spec: CleanStepSpec;
  private readonly names: Record<string, string>;
  private readonly noteNames: Record<string, string>;
  private readonly cleaner: ReturnType<typeof compileEntityCleaner>;
  /** Records still cleaned in place before the pool takes over (Infinity without workers). */
  private inlineLeft: number;
  private inlinePage?: string;
  private readonly options: { maxRecordBytes: number; schema: SchemaPlan };
  private pool?: Piscina;
  private batch: CleanBatch = { records: [], origins: [] };
  private batchPage?: string;
  private readonly inFlight: Promise<CleanedElement[]>[] = [];
  private tally: Tally = {};
  private last?: LastSeen;
  private shown?: { page: string; valid: number; dead: number };

  constructor(spec: CleanStepSpec, schema: SchemaPlan) {
    this.spec = spec;
    const counters: CounterName[] = [
      "fetched", "valid", "parse_failed", "validate_failed", "normalize_failed", "optional_dates_nulled", "non_finite_nulled",
      "schema_rows_refused", "schema_values_discarded", "schema_variant_values",
    ];
    this.names = Object.fromEntries(counters.map((c) => [c, counterName(spec.entityName, c)]));
    this.noteNames = Object.fromEntries(VALUE_NOTES.map((c) => [c, counterName(spec.entityName, c)]));
    this.options = { maxRecordBytes: spec.maxRecordBytes, schema: schema };
    this.cleaner = compileEntityCleaner(spec.entity, this.options);
    this.inlineLeft = spec.workers > 0 ? inlineRecords() : Infinity;
  }

  /**
   * Cleans `r` (counted in the tally with `last` as the bundle's last position): returns its outputs,
   * or with workers nothing yet, or a Promise of earlier records' outputs when enough batches are in flight.
   */
  add(r: RestRecord, last: LastSeen): CleanedElement[] | Promise<CleanedElement[]> | undefined {
    this.last = last;
    addTally(this.tally, this.names.fetched, 1);
    if (r.non_finite_nulled) addTally(this.tally, this.names.non_finite_nulled, r.non_finite_nulled);
    const origin: RecordOrigin = { runId: this.spec.runId, source: r._source, page: r._page, fetchedAt: r.fetched_at };
    const page = r._source + "\u0000" + r._page;
    // In place until the budget is spent, then from the next page on in the pool (a page stays on one thread).
    if (this.inlineLeft > 0 || page === this.inlinePage) {
      this.inlineLeft--;
      this.inlinePage = page;
      const out: CleanedElement[] = [];
      this.absorb(this.cleaner.clean(r.record, origin), origin, out);
      return out;
    }
    this.inlinePage = undefined;
    if (page !== this.batchPage && this.batch.records.length >= BATCH_RECORDS) this.dispatch();
    this.batchPage = page;
    this.batch.records.push(r.record);
    this.batch.origins.push(origin);
    if (this.inFlight.length < 2 * this.spec.workers) return undefined;
    return this.inFlight.shift();
  }

  /**
   * The bundle's remaining outputs and its tally (in the last record's window), in input order;
   * closes the pool. The step serves the next bundle afresh (the cleaner itself is kept).
   */
  async finish(): Promise<WindowedValue<CleanedElement>[]> {
    const outputs: CleanedElement[] = [];
    try {
      if (this.batch.records.length) this.dispatch();
      while (this.inFlight.length) outputs.push(...(await (this.inFlight.shift() as Promise<CleanedElement[]>)));
    } finally {
      await this.close();
    }
    this.flushShown();
    const last = this.last;
    if (last === undefined) return [];
    if (Object.keys(this.tally).length) outputs.push({ tally: this.tally });
    this.tally = {};
    this.last = undefined;
    this.inlineLeft = this.spec.workers > 0 ? inlineRecords() : Infinity;
    return outputs.map((value) => ({ value: value, windows: last.windows, timestamp: last.timestamp, pane: last.pane }));
  }

  /** Stops the worker threads (idempotent). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool === undefined) return;
    OPEN_POOLS.delete(pool);
    await pool.destroy();
  }

  private dispatch(): void {
    const batch = this.batch;
    this.batch = { records: [], origins: [] };
    // Opened on the first batch of a bundle (the cleaner needs the run's schema plan), closed at its end.
    if (this.pool === undefined) {
      const workerData: CleanerSettings = { entity: this.spec.entity, options: this.options };
      this.pool = new Piscina({ filename: path.join(__dirname, "clean-worker.js"), name: "cleanBatch", minThreads: this.spec.workers, maxThreads: this.spec.workers, workerData: workerData });
      OPEN_POOLS.add(this.pool);
    }
    const pool = this.pool;
    // The Promise is awaited later, in order; a rejection before then must not count as unhandled.
    const done = (pool.run(batch) as Promise<Cleaned[]>).then((results) => {
      const out: CleanedElement[] = [];
      for (let i = 0; i < results.length; i++) this.absorb(results[i], batch.origins[i], out);
      return out;
    });
    done.catch(() => undefined);
    this.inFlight.push(done);
  }

  /** Counts one record's result and appends its outputs. */
  private absorb(result: Cleaned, origin: RecordOrigin, out: CleanedElement[]): void {
    const tally = this.tally;
    const names = this.names;
    const page = origin.source + "\u0000" + origin.page;
    if (this.shown === undefined || this.shown.page !== page) {
      this.flushShown();
      this.shown = { page: page, valid: 0, dead: 0 };
    }
    if (result.ok) this.shown.valid++;
    else this.shown.dead++;
    if (result.raw) out.push({ raw: result.raw });
    const notes = result.notes;
    if (notes) for (const note of Object.keys(notes)) if (note in this.noteNames) addTally(tally, this.noteNames[note], notes[note]);
    if (result.ok) {
      addTally(tally, names.valid, 1);
      if (result.datesNulled) addTally(tally, names.optional_dates_nulled, result.datesNulled);
      if (result.schemaVariants) addTally(tally, names.schema_variant_values, result.schemaVariants);
      if (result.schemaDiscarded) addTally(tally, names.schema_values_discarded, result.schemaDiscarded);
      out.push({ clean: { row: result.row, children: result.children } });
      return;
    }
    const stage = result.stage === "normalize" ? names.normalize_failed : result.stage === "parse" ? names.parse_failed : names.validate_failed;
    addTally(tally, stage, 1);
    if (result.schemaRefused) addTally(tally, names.schema_rows_refused, 1);
    out.push({ dead: deadLetter({ stage: result.stage, error: result.reason, payload: result.payload, source: origin.source, run_id: this.spec.runId, entity: this.spec.entityName }) });
  }

  /** The progress display's stage counts, one event per stage and page rather than per record (a hot path). */
  private flushShown(): void {
    const shown = this.shown;
    this.shown = undefined;
    if (shown === undefined) return;
    if (shown.valid) emitProgress({ kind: "stage", entity: this.spec.entityName, stage: "valid", count: shown.valid });
    if (shown.dead) emitProgress({ kind: "stage", entity: this.spec.entityName, stage: "dead", count: shown.dead });
  }
}

/** A bundle's cleaning step (a module function, so a DoFn reaches it by name on any worker). */
export function openCleanStep(spec: CleanStepSpec, schema: SchemaPlan): CleanStep {
  return new CleanStep(spec, schema);
}

/** Stops every pool a failed bundle left open, so the process can end (called when a run ends). */
export async function closeCleanPools(): Promise<void> {
  const pools = [...OPEN_POOLS];
  OPEN_POOLS.clear();
  await Promise.all(pools.map((p) => p.destroy()));
}

requireForSerialization("api2lake/dist/pipeline/clean-step", { openCleanStep: openCleanStep });
