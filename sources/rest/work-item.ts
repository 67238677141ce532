import type { DeadLetter } from "../../model/dead-letter";
import type { Row } from "../../model/row";
import type { SourceConfig } from "../../model/source-config";
import { fetchSeries, type FetchContext } from "./fetch-pages";
import { planSlices } from "./state";
import { openSecrets, resolveReferences } from "./secrets";
import { redact, redactDeep } from "./auth/redact";
import { sliceBoundProblem, type DateRange, type Slice } from "./slices";

/**
 * Work items (one request series each) and their fetch as a plain async function, which is
 * what `readRest`'s DoFn runs and what tests and the `publish` command call directly.
 */

/** One request series: an entity, one combination of its path parameters, one slice. */
export interface WorkItem {
  entity: string;
  pathParams: Record<string, string>;
  slice?: Slice;
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
export type RestElement = { record: RestRecord } | { page: PageSummary } | { deadLetter: DeadLetter };

export interface PlanOptions {
  /** Entities to read (default: all, in config order). */
  entities?: readonly string[];
  /** Precomputed slices per entity (from `planSlices` and the saved state); wins over `range`. */
  slices?: Readonly<Record<string, readonly Slice[]>>;
  /** A `--from/--to` range, split by each sliced entity's step when `slices` has no entry. */
  range?: DateRange;
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
    const entity = source.entities[name];
    if (!entity) throw new Error(`source ${source.name}: unknown entity "${name}" (known: ${Object.keys(source.entities).join(", ")})`);
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
      for (const slice of slices) items.push(slice ? { entity: name, pathParams: pathParams, slice: slice } : { entity: name, pathParams: pathParams });
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
  const opened = openSecrets(source);
  const clean = (text: string) => redact(text, opened.secrets);
  const pathParams = resolveReferences(item.pathParams, process.env, new Set(source.publicVariables ?? [])).value;
  const series = await fetchSeries(
    { source: opened.source, entity: item.entity, slice: item.slice, pathParams: pathParams, secrets: opened.secrets }, ctx);
  const endpoint = clean(series.endpoint);
  const out: RestElement[] = [];
  for (const page of series.pages) {
    const pageId = clean(page.request.page);
    const summary: PageSummary = {
      source: source.name, entity: item.entity, url: clean(page.request.url), status: page.request.status, page: pageId,
      fetched_at: page.request.fetched_at, attempts: page.request.attempts, records: page.records.length, rejected: page.request.rejected,
      non_finite_nulled: page.request.non_finite_nulled,
    };
    if (page.request.ignored) summary.ignored = page.request.ignored;
    if (item.slice) summary.slice = item.slice;
    out.push({ page: summary });
    page.records.forEach((raw, index) => {
      const record: RestRecord = {
        source: source.name, entity: item.entity, record: { ...page.attached, ...(raw as Row) },
        _source: endpoint, _page: pageId, fetched_at: page.request.fetched_at,
      };
      if (item.slice) record.slice = item.slice;
      if (page.nonFinite[index]) record.non_finite_nulled = page.nonFinite[index];
      out.push({ record: record });
    });
  }
  for (const dl of series.deadLetters) out.push({ deadLetter: redactDeep(dl, opened.secrets) });
  return out;
}

/** True when the elements hold a fetch-stage dead letter: some series stopped early. */
export function fetchFailed(elements: readonly RestElement[]): boolean {
  return elements.some((e) => "deadLetter" in e && e.deadLetter.stage === "fetch");
}
