import { requireForSerialization } from "apache-beam/serialization";
import type { Row, Outcome } from "../model/row";
import { LINEAGE_COLUMNS } from "../model/row";
import { failed } from "../model/row";
import type { Stage } from "../model/dead-letter";
import type { EntityConfig } from "../model/source-config";
import { withLineageSized } from "../transforms/lineage";
import { flattenRecord, type Flattened } from "../transforms/flatten";
import { createRenamer, sanitizeName } from "../transforms/names";
import { compileConformer, type SchemaPlan } from "../transforms/schema-contract";
import { validateRow, decimalKeptExactly, type ValueCounts } from "../transforms/validation";
import { compileDates } from "../transforms/dates";
import { writePhones } from "../transforms/phones";

/** Where a record came from: enough for lineage and for a dead letter's `source`. */
export interface RecordOrigin {
  runId: string;
  /** Endpoint path (lineage `_source`). */
  source: string;
  page: string;
  fetchedAt: string;
}

export type Cleaned =
  | {
      ok: true;
      raw: Row;
      row: Row;
      children: Record<string, Row[]>;
      /** Optional dates of this record that were unparseable and became null. */
      datesNulled: number;
      /**
       * Value notes by manifest counter name (`sentinel_nulled`, `invalid_nulled`,
       * `precision_lost`, `dst_overlap_later`, `dst_gap_shifted`); absent when there are none.
       * A failure may carry `dst_gap_rejected` or `unprocessable`.
       */
      notes?: ValueCounts;
      /** Original -> column names first seen with this record's key set (published in the manifest). */
      newNames?: Record<string, string>;
      /** Values the run's schema moved to variant columns / discarded (`schema.typeChanges`, `schema.newColumns`). */
      schemaVariants?: number;
      schemaDiscarded?: number;
    }
  | { ok: false; raw: Row | undefined; stage: Stage; reason: string; payload: unknown; notes?: ValueCounts; schemaRefused?: boolean };

/** Records with their origins, cleaned in order by one thread (pipeline/clean-worker.ts). */
export interface CleanBatch {
  records: unknown[];
  origins: RecordOrigin[];
}

/** What `compileEntityCleaner` is compiled from: the entity and its options (plain data, so a worker thread can receive it). */
export interface CleanerSettings {
  entity: EntityConfig;
  options: { maxRecordBytes: number; schema?: SchemaPlan };
}

export interface EntityCleaner {
  clean(record: unknown, origin: RecordOrigin): Cleaned;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The cleaning chain of one entity, assembled from its declaration: lineage, flatten, warehouse
 * names, validation, dates, phones. Compiled once per worker; each step is a pure function
 * from transforms/, so the chain is one pass per record with no per-step Beam overhead.
 *
 * Total: any exception on one record (a bug, or a shape no step expected) comes back as a
 * failure at stage `normalize` with reason `unprocessable: <message>`, never thrown.
 *
 * Records of one page must arrive in page order (the REST reader emits them so, in one
 * bundle): a zone-less wall time repeated in a DST overlap is the earlier instant at its first
 * occurrence and the later one after, counted per (page, date field, zone, wall time, the
 * record's other primary-key values); the count restarts when the page changes.
 */
export function compileEntityCleaner(entity: EntityConfig, options: { maxRecordBytes: number; schema?: SchemaPlan }): EntityCleaner {
  let newNames: Record<string, string> | undefined;
  const dates = compileDates(entity.dates);
  const dateCounters: Record<string, number> = {};
  const hasPhones = Object.keys(entity.phones).length > 0;
  const rename = createRenamer((mapping) => {
    newNames = Object.assign(newNames ?? {}, mapping);
  });
  // A primary-key value that a `number` field would round could merge distinct records.
  const numberKeys = entity.primaryKey.filter((k) => entity.fields[k]?.type === "number");
  // The series a wall time belongs to: the primary key without the date fields themselves.
  const seriesKeys = entity.primaryKey.filter((k) => entity.dates[k] === undefined);
  let pageSource: string | undefined;
  let page: string | undefined;
  const occurrences = new Map<string, number>();
  // With the run's schema plan, every source path lands in its fixed column (see planSchema);
  // without one (unit use), names are decided per key set.
  const conform = options.schema ? compileConformer(options.schema, entity.explode) : undefined;
  // Only entities with exploded arrays have children pointing at a parent key.
  const parentColumns = entity.explode.length ? parentKeyColumns(entity.primaryKey) : undefined;

  const cleanOne = (record: unknown, origin: RecordOrigin): Cleaned => {
    newNames = undefined;
    const lineageCtx = { runId: origin.runId, source: origin.source, page: origin.page, ingestedAt: origin.fetchedAt };
    if (!isObject(record)) {
      return { ok: false, raw: undefined, stage: "parse", reason: `not a JSON object: got ${record === null ? "null" : Array.isArray(record) ? "an array" : typeof record}`, payload: record };
    }
    // The record's JSON size comes with its lineage: the text hashed for `_payload_hash` has the same length.
    const sized = withLineageSized(record, lineageCtx);
    const raw = sized.row;
    const bytes = sized.bytes;
    if (bytes > options.maxRecordBytes) {
      return { ok: false, raw: raw, stage: "validate", reason: `record is ${bytes} bytes, over the ${options.maxRecordBytes}-byte limit`, payload: record };
    }
    // With the run's schema plan the row comes from `conform`: flattening is then needed only for exploded children.
    const flat = conform && !parentColumns ? undefined
      : flattenRecord(raw, { explode: entity.explode, parentKey: parentColumns ? parentKeyOf(raw, entity.primaryKey, parentColumns) : {} });
    let named: Row;
    let schemaVariants = 0;
    let schemaDiscarded = 0;
    if (conform) {
      const conformed = conform(raw);
      if (!conformed.ok) return { ok: false, raw: raw, stage: "validate", reason: conformed.reason, payload: record, schemaRefused: true };
      named = conformed.value.row;
      schemaVariants = conformed.value.variantValues;
      schemaDiscarded = conformed.value.discardedValues;
    } else named = rename((flat as Flattened).row);
    const notes: ValueCounts = {};
    const valid = validateRow(named, entity.fields, { maxRecordBytes: options.maxRecordBytes, bytes: bytes }, notes);
    if (!valid.ok) return { ok: false, raw: raw, stage: "validate", reason: valid.reason, payload: record };
    // Dedupe groups on the primary key: a record without one would silently collapse with others.
    const empty = emptyKeyField(valid.value, entity.primaryKey);
    if (empty !== undefined) return { ok: false, raw: raw, stage: "validate", reason: `missing primary key field "${empty}"`, payload: record };
    for (const k of numberKeys) {
      const sent = named[k];
      if (typeof sent === "string" && !decimalKeptExactly(sent, valid.value[k] as number)) {
        const reason = `primary key field "${k}": ${sent.trim()} does not fit a double exactly (declare it integer or string)`;
        return { ok: false, raw: raw, stage: "validate", reason: reason, payload: record };
      }
    }
    if (origin.source !== pageSource || origin.page !== page) {
      pageSource = origin.source;
      page = origin.page;
      occurrences.clear();
    }
    // Asked only for wall times in a DST overlap: the series text is built on first use.
    let series: string | undefined;
    const seen = (wall: string): number => {
      if (series === undefined) series = seriesKeys.length ? JSON.stringify(seriesKeys.map((k) => valid.value[k])) : "";
      const id = series + "\u0000" + wall;
      const n = occurrences.get(id) ?? 0;
      occurrences.set(id, n + 1);
      return n;
    };
    const nulledBefore = totalOf(dateCounters);
    const dated: Outcome<Row> = dates(valid.value, dateCounters, { seen: seen, notes: notes });
    if (!dated.ok) return { ok: false, raw: raw, stage: "normalize", reason: dated.reason, payload: record, notes: notes };
    // `dates` returned a fresh row: the phone columns go into it (no second copy).
    const row = hasPhones ? writePhones(dated.value, entity.phones) : dated.value;
    const children: Record<string, Row[]> = {};
    if (flat) {
      const lineage = pick(raw, LINEAGE_COLUMNS);
      // Children point at the parent's landed key (after renaming and normalizing), however the API spelled it.
      const parentKey = parentColumns ? parentKeyOf(row, entity.primaryKey, parentColumns) : {};
      for (const name of Object.keys(flat.children)) {
        children[sanitizeName(name)] = flat.children[name].map((child) => Object.assign(rename(child), parentKey, lineage));
      }
    }
    const noted = Object.keys(notes).length > 0 ? notes : undefined;
    const datesNulled = totalOf(dateCounters) - nulledBefore;
    return { ok: true, raw: raw, row: row, children: children, datesNulled: datesNulled, notes: noted, newNames: newNames,
      schemaVariants: schemaVariants, schemaDiscarded: schemaDiscarded };
  };

  const clean = (record: unknown, origin: RecordOrigin): Cleaned => {
    try {
      return cleanOne(record, origin);
    } catch (e) {
      newNames = undefined;
      const message = e instanceof Error ? e.message : String(e);
      const reason = `unprocessable: ${message}`;
      return { ok: false, raw: undefined, stage: "normalize", reason: reason, payload: printable(record), notes: { unprocessable: 1 } };
    }
  };

  return { clean: clean };
}

/** The record itself when JSON can hold it, else a description (a dead letter must not throw too). */
function printable(record: unknown): unknown {
  try {
    return JSON.stringify(record) === undefined ? String(record) : record;
  } catch (e) {
    return `[not serializable as JSON: ${e instanceof Error ? e.message : String(e)}]`;
  }
}

function totalOf(counters: Record<string, number>): number {
  let n = 0;
  for (const k in counters) n += counters[k];
  return n;
}

/** Columns an exploded child row carries to point at its parent: `parent_<key>`. */
export function parentKeyColumns(primaryKey: readonly string[]): string[] {
  return primaryKey.map((k) => `parent_${sanitizeName(k)}`);
}

/** The child tables of an entity, `<entity>_<column>`, one per exploded array. */
export function childTables(entityName: string, entity: EntityConfig): { column: string; table: string; primaryKey: string[] }[] {
  return entity.explode.map((field) => {
    const column = sanitizeName(field.replace(/\./g, "_"));
    return { column: column, table: `${entityName}_${column}`, primaryKey: [...parentKeyColumns(entity.primaryKey), "_index"] };
  });
}

function parentKeyOf(row: Row, primaryKey: readonly string[], columns: readonly string[]): Row {
  const out: Row = {};
  primaryKey.forEach((k, i) => (out[columns[i]] = row[k] === undefined ? null : row[k]));
  return out;
}

function pick(row: Row, keys: readonly string[]): Row {
  const out: Row = {};
  for (const k of keys) out[k] = row[k];
  return out;
}

/** The dedupe key of a cleaned row: its primary-key values, JSON-encoded, or which part is empty. */
export function primaryKeyOf(row: Row, primaryKey: readonly string[]): Outcome<string> {
  const empty = emptyKeyField(row, primaryKey);
  if (empty !== undefined) return failed(`missing primary key field "${empty}"`);
  return { ok: true, value: JSON.stringify(primaryKey.map((k) => row[k])) };
}

/** The first primary-key field that is missing, `null` or `""` in the row, if any. */
function emptyKeyField(row: Row, primaryKey: readonly string[]): string | undefined {
  for (const k of primaryKey) {
    const v = row[k];
    if (v === undefined || v === null || v === "") return k;
  }
  return undefined;
}

requireForSerialization("api2lake/dist/pipeline/entity-cleaner", { compileEntityCleaner: compileEntityCleaner, primaryKeyOf: primaryKeyOf, emptyKeyField: emptyKeyField, printable: printable });
