import type { DeadLetter } from "../../model/dead-letter";
import type { Row } from "../../model/row";
import type { SourceConfig } from "../../model/source-config";
import { seriesPages, type FetchContext } from "./fetch-pages";
import { planSlices } from "./state";
import { openSecretsWhereRequested, resolveReferences } from "./secrets";
import { deadLetter } from "../../model/dead-letter";
import { redact, redactDeep } from "./auth/redact";
import { sliceBoundProblem, type DateRange, type Slice } from "./slices";
import { cursorStart, maxRecordCursor, laterCursor, type CursorValue } from "./cursor";
import { includedColumns, missingParents, parentRef, type ParentRef } from "./parent-child";

/**
 * Work items (one request series each) and their fetch as a plain async function, which is
 * what `readRest`'s DoFn runs and what tests and the `publish` command call directly.
 */

/** One request series: an entity, one combination of its path parameters, one slice or one parent record. */
export interface WorkItem {
  entity: string;
  pathParams: Record<string, string>;
  slice?: Slice;
  /** A child entity's series: the parent record it was made from. */
  parent?: ParentRef;
  /** Incremental start (committed cursor minus lag, or `initial`). */
  since?: CursorValue;
  /** Why the series cannot be requested (a parent record lacks a field): fetched as one `fetch` dead letter. */
  problem?: string;
}

/** Cursors an incremental entity committed before this run (state/<source>/<entity>.json). */
export interface CommittedCursors {
  cursor: CursorValue | null;
  /** Per parent key, for a child entity. */
  parents: Record<string, CursorValue>;
}

/**
 * The largest cursor of one request series, for the run's pending state. `complete: false` (the series
 * stopped early, or was never requested) keeps the committed cursor of its entity, or of its parent key.
 */
export interface CursorCandidate {
  source: string;
  entity: string;
  parentKey?: string;
  cursor: CursorValue | null;
  complete: boolean;
}

/** A fetched record with what lineage needs; `record` is the API's object plus `attach` fields. */
export interface RestRecord {
  source: string;
  entity: string;
  record: Row;
  /** Endpoint path, path parameters filled, no query (lineage `_source`). */
  _source: string;
  /** Page number, offset, cursor or next-URL path (lineage `_page`). */
  _page: string;
  fetched_at: string;
  slice?: Slice;
  /** Bare `NaN`/`Infinity`/`-Infinity` tokens of this record read as null (absent when none). */
  non_finite_nulled?: number;
}

/** One fetched page, for the run manifest's counts. */
export interface PageSummary {
  source: string;
  entity: string;
  /** Full request URL, secrets masked. */
  url: string;
  status: number;
  page: string;
  fetched_at: string;
  attempts: number;
  /** Records emitted from this page. */
  records: number;
  /** Records of this page that became `parse` dead letters (fetched = records + rejected). */
  rejected: number;
  /** Non-finite tokens nulled outside the page's records (e.g. in `attach` fields). */
  non_finite_nulled: number;
  /** Set when a response action said `ignore`: the page counts as empty, for this reason. */
  ignored?: string;
  slice?: Slice;
}

/**
 * What fetching a work item emits: exactly one key per element, so `split` can route it.
 * A `deadLetter` with stage `fetch` means a series stopped early: the run must end non-zero.
 */
export type RestElement = { record: RestRecord } | { page: PageSummary } | { deadLetter: DeadLetter } | { cursor: CursorCandidate };

export interface PlanOptions {
  /** Entities to read (default: all, in config order). */
  entities?: readonly string[];
  /** Precomputed slices per entity (from `planSlices` and the saved state); wins over `range`. */
  slices?: Readonly<Record<string, readonly Slice[]>>;
  /** A `--from/--to` range, split by each sliced entity's step when `slices` has no entry. */
  range?: DateRange;
  /** Committed cursors of the incremental entities (absent: their first run, from `initial`). */
  cursors?: Readonly<Record<string, CommittedCursors>>;
}

/** Every combination of the entity's path parameters (one empty combination when it has none). */
export function pathParamCombinations(pathParams: Readonly<Record<string, readonly string[]>>): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(pathParams)) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [name]: value })));
  }
  return combos;
}

/** The work items of a run: entity x path-parameter combination x slice, in order. */
export function planWorkItems(source: SourceConfig, options: PlanOptions = {}): WorkItem[] {
  const names = options.entities ?? Object.keys(source.entities);
  const items: WorkItem[] = [];
  for (const name of names) {
    if (!source.entities[name]) throw new Error(`source ${source.name}: unknown entity "${name}" (known: ${Object.keys(source.entities).join(", ")})`);
  }
  const missing = missingParents(source, names);
  if (missing.length) throw new Error(`source ${source.name}: ${missing.join("; ")}`);
  for (const name of names) {
    const entity = source.entities[name];
    // Child series are planned from their parent's fetched records (planChildItems).
    if (entity.parent !== undefined) continue;
    const since = entity.incremental ? cursorStart((options.cursors ?? {})[name]?.cursor, entity.incremental) : undefined;
    let slices: readonly (Slice | undefined)[] = [undefined];
    if (entity.slices) {
      const planned = options.slices ? options.slices[name] : undefined;
      if (planned) slices = planned;
      else if (options.range) slices = planSlices(options.range, null, [], { step: entity.slices.step });
      // A bound the entity's pattern cannot write exactly would fetch another window: refuse it here.
      for (const slice of slices) {
        const problem = slice ? sliceBoundProblem(slice, entity.slices.format) : undefined;
        if (problem) throw new Error(`source ${source.name}, entity ${name}: ${problem}`);
      }
    }
    for (const pathParams of pathParamCombinations(entity.pathParams)) {
      for (const slice of slices) {
        const item: WorkItem = slice ? { entity: name, pathParams: pathParams, slice: slice } : { entity: name, pathParams: pathParams };
        if (since !== undefined) item.since = since;
        items.push(item);
      }
    }
  }
  return items;
}

/**
 * The child series a fetched parent record opens: one per child entity of the selection (x its path
 * parameter combinations), starting from the cursor committed for this parent key. A parent record
 * lacking a field the child needs gives an item with a `problem` (a dead letter naming the field).
 */
export function planChildItems(source: SourceConfig, record: RestRecord, options: PlanOptions = {}): WorkItem[] {
  const names = options.entities ?? Object.keys(source.entities);
  const items: WorkItem[] = [];
  for (const name of names) {
    const entity = source.entities[name];
    if (entity.parent !== record.entity) continue;
    const made = parentRef(record.entity, source.entities[record.entity], entity, record.record);
    if (!made.ok) {
      items.push({ entity: name, pathParams: {}, problem: `${made.reason} (record from ${record._source} page ${record._page})` });
      continue;
    }
    const committed = (options.cursors ?? {})[name];
    const since = entity.incremental ? cursorStart(committed ? committed.parents[made.ref.key] : undefined, entity.incremental) : undefined;
    for (const pathParams of pathParamCombinations(entity.pathParams)) {
      const item: WorkItem = { entity: name, pathParams: pathParams, parent: made.ref };
      if (since !== undefined) item.since = since;
      items.push(item);
    }
  }
  return items;
}

/**
 * Fetches one work item's pages and turns them into record, page and dead-letter elements.
 * `source` may be sealed (`${VAR}` references, as DoFns capture it): references are resolved here,
 * and every secret value is masked in what leaves (lineage `_source`/`_page`, page URLs, dead
 * letters) - the API's own next URL, e.g. `?api_key=<secret>`, is lineage too.
 */
export async function fetchWorkItem(source: SourceConfig, item: WorkItem, ctx: FetchContext): Promise<RestElement[]> {
  const out: RestElement[] = [];
  for await (const elements of workItemPages(source, item, ctx)) out.push(...elements);
  return out;
}

/**
 * `fetchWorkItem` one page at a time: yields each page's elements (its summary, then its records,
 * in page order) as the page arrives, then the series' dead letters and cursor candidate. A reader
 * holds one page per series in flight instead of the whole series (a 1M-record API is 1M records).
 */
export async function* workItemPages(source: SourceConfig, item: WorkItem, ctx: FetchContext): AsyncGenerator<RestElement[]> {
  let opened: Awaited<ReturnType<typeof openSecretsWhereRequested>>;
  try {
    opened = await openSecretsWhereRequested(source);
  } catch (error) {
    // A secret that cannot be resolved here stops this series before any request: a fetch dead
    // letter naming the key path and the variable or secret version (the run then fails).
    const payload = { entity: item.entity, slice: item.slice ?? null, path_params: item.pathParams };
    yield [{ deadLetter: deadLetter({ stage: "fetch", error: `secrets: ${(error as Error).message}`, payload: payload, source: source.name, run_id: ctx.runId, entity: item.entity }) }];
    return;
  }
  const clean = (text: string) => redact(text, opened.secrets);
  const entity = source.entities[item.entity];
  if (item.problem !== undefined) {
    const failure = deadLetter({
      stage: "fetch", error: clean(item.problem), payload: { entity: item.entity, path_params: item.pathParams },
      source: entity.path, run_id: ctx.runId, entity: item.entity,
    });
    yield [{ deadLetter: failure }, ...holdAncestors(source, item.entity)];
    return;
  }
  const pathParams = resolveReferences(item.pathParams, process.env, new Set(source.publicVariables ?? [])).value;
  const pages = seriesPages(
    {
      source: opened.source, entity: item.entity, slice: item.slice, pathParams: pathParams, secrets: opened.secrets,
      parent: item.parent, since: item.since,
    }, ctx);
  const included = item.parent ? includedColumns(entity, item.parent.values) : {};
  let cursor: CursorValue | null = null;
  let endpoint: string | undefined;
  for (;;) {
    const step = await pages.next();
    if (step.done) {
      const series = step.value;
      const out: RestElement[] = [];
      for (const dl of series.deadLetters) out.push({ deadLetter: redactDeep(dl, opened.secrets) });
      if (entity.incremental) {
        const candidate: CursorCandidate = { source: source.name, entity: item.entity, cursor: cursor, complete: series.complete };
        if (item.parent) candidate.parentKey = item.parent.key;
        out.push({ cursor: candidate });
      }
      if (!series.complete) out.push(...holdAncestors(source, item.entity));
      if (out.length) yield out;
      return;
    }
    const page = step.value;
    endpoint ??= clean(page.endpoint);
    const pageId = clean(page.request.page);
    const summary: PageSummary = {
      source: source.name, entity: item.entity, url: clean(page.request.url), status: page.request.status, page: pageId,
      fetched_at: page.request.fetched_at, attempts: page.request.attempts, records: page.records.length, rejected: page.request.rejected,
      non_finite_nulled: page.request.non_finite_nulled,
    };
    if (page.request.ignored) summary.ignored = page.request.ignored;
    if (item.slice) summary.slice = item.slice;
    const out: RestElement[] = [{ page: summary }];
    // A loop, not a callback: the build keeps the last closure of each kind in a module-level
    // variable, so a callback capturing `out` would keep the page alive after the call.
    for (let index = 0; index < page.records.length; index++) {
      const record: RestRecord = {
        source: source.name, entity: item.entity, record: { ...page.attached, ...(page.records[index] as Row), ...included },
        _source: endpoint as string, _page: pageId, fetched_at: page.request.fetched_at,
      };
      if (item.slice) record.slice = item.slice;
      if (page.nonFinite[index]) record.non_finite_nulled = page.nonFinite[index];
      out.push({ record: record });
    }
    if (entity.incremental) cursor = laterCursor(cursor, maxRecordCursor(page.records, entity.incremental.cursorField));
    yield out;
  }
}

/**
 * A child series that failed holds its incremental ancestors' cursors for this run, so the next run
 * reads the parent again and retries the child (the siblings that completed start from their own cursors).
 */
function holdAncestors(source: SourceConfig, entity: string): RestElement[] {
  const out: RestElement[] = [];
  for (let up = source.entities[entity].parent; up !== undefined; up = source.entities[up].parent) {
    if (source.entities[up].incremental) out.push({ cursor: { source: source.name, entity: up, cursor: null, complete: false } });
  }
  return out;
}

/** True when the elements hold a fetch-stage dead letter: some series stopped early. */
export function fetchFailed(elements: readonly RestElement[]): boolean {
  return elements.some((e) => "deadLetter" in e && e.deadLetter.stage === "fetch");
}
