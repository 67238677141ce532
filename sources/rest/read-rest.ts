import { flatten, impulse, parDo, P, split, withName, type PCollection, type Root } from "apache-beam";
import { reshuffle } from "apache-beam/transforms/utils";
import { requireForSerialization } from "apache-beam/serialization";
import type { DeadLetter } from "../../model/dead-letter";
import type { SourceConfig } from "../../model/source-config";
import { emitPlanned } from "../../model/progress-events";
import { DEFAULT_MAX_WORKERS } from "./rate-limit";
import { sealForWorkers } from "./secrets";
import {
  workItemPages, planChildItems, planWorkItems,
  type CursorCandidate, type PageSummary, type PlanOptions, type RestElement, type RestRecord, type WorkItem,
} from "./work-item";
import { entityLevels } from "./parent-child";

// The DoFn calls into the fetch core through these registered functions, so Beam ships a
// reference to the module instead of serializing its closures (paginator and auth classes
// cannot be serialized, and the process-wide rate gate must stay one object). The name
// resolves inside the installed project package on a worker.
requireForSerialization("api2lake/dist/sources/rest/work-item", {
  workItemPages: workItemPages, planWorkItems: planWorkItems, planChildItems: planChildItems,
});

export interface ReadRestOptions extends PlanOptions {
  /** Stamped on dead letters. */
  runId: string;
  /** Work items fetched at once, and requests in flight for this source (process-wide); default 16. */
  maxWorkers?: number;
  /** Trial cap: records per entity (`run --limit N`); paging stops once they were fetched. */
  recordLimit?: number;
}

export type ReadRestOutput = {
  /** One element per fetched record, with `_source` and `_page` for lineage. */
  records: PCollection<RestRecord>;
  /** One element per fetched page (URL without secrets, status, record count): manifest counts. */
  pages: PCollection<PageSummary>;
  /**
   * Fetch failures (`stage: "fetch"`: a page that kept failing, a repeated cursor, a body
   * without a records array - the series stopped there, the run must end non-zero) and
   * rejected single records (`stage: "parse"`: not a JSON object).
   */
  deadLetters: PCollection<DeadLetter>;
  /** One element per request series of an incremental entity: its largest cursor, for the run's pending state. */
  cursors: PCollection<CursorCandidate>;
};

/**
 * Reads a declarative REST source into the graph.
 *
 * Steps:
 *  1. PlanWorkItems: impulse + a generator that yields one work item per entity x path-parameter
 *     combination x slice (computed on the worker from plain config data).
 *  2. ReshuffleWorkItems: so the fetch step sees separate elements it can run concurrently.
 *  3. FetchPages: an async DoFn (up to `maxWorkers` work items in flight) that follows each
 *     series' pagination with retries and the shared rate limit.
 *  4. For each level of child entities (`parent:`): PlanChildItems_<n> turns the previous level's
 *     records into child series, reshuffled and fetched the same way (FetchChildPages_<n>), so the
 *     children of different parents run concurrently under the same rate gate.
 *  5. SplitFetched: records, pages, dead letters and cursor candidates.
 *
 * @example
 *   const out = root.apply(readRest(source, { runId: "r1", entities: ["customers"] }));
 *   out.records.map(...); out.deadLetters.apply(writeDeadLetters(...));
 */
export function readRest(loaded: SourceConfig, options: ReadRestOptions) {
  // Workers get auth secrets as `${VAR}` references, resolved where each request is made.
  const source = sealForWorkers(loaded);
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  const plan: PlanOptions = { entities: options.entities, slices: options.slices, range: options.range, cursors: options.cursors };
  // Fail at graph construction on unknown entities, a child without its parent or a bad step, not on a worker;
  // the plan's size is the progress total (children are planned from their parents' records, later).
  emitPlanned(source.name, planWorkItems(source, plan));
  const levels = entityLevels(source, options.entities ?? Object.keys(source.entities)).length;
  const ctx = { runId: options.runId, maxWorkers: maxWorkers, recordLimit: options.recordLimit };
  return withName(`ReadRest_${source.name}`, function readRestSource(root: Root): ReadRestOutput {
    const items = root
      .apply(withName("StartRead", impulse()))
      .apply(withName("PlanWorkItems", parDo({
        process: function* (_: Uint8Array) {
          yield* planWorkItems(source, plan);
        },
      })))
      .apply(withName("ReshuffleWorkItems", reshuffle<WorkItem>()));
    // Each work item's pages are emitted as they arrive (one page's elements at a time, then kept
    // together by FlattenPages), so a process holds the pages in flight, not whole series.
    const fetchStep = (name: string) => withName(name, (input: PCollection<WorkItem>): PCollection<RestElement> => input
      .apply(withName("FetchWorkItems", parDo<WorkItem, RestElement[]>({
        maxConcurrency: maxWorkers,
        process: function (item: WorkItem) {
          return workItemPages(source, item, ctx);
        },
      })))
      .apply(withName("FlattenPages", parDo({
        process: function* (elements: RestElement[]) {
          yield* elements;
        },
      }))));
    let fetched = items.apply(fetchStep("FetchPages"));
    const all: PCollection<RestElement>[] = [fetched];
    for (let level = 1; level < levels; level++) {
      fetched = fetched
        .apply(withName(`PlanChildItems_${level}`, parDo({
          process: function* (e: RestElement) {
            if ("record" in e) yield* planChildItems(source, e.record, plan);
          },
        })))
        .apply(withName(`ReshuffleChildItems_${level}`, reshuffle<WorkItem>()))
        .apply(fetchStep(`FetchChildPages_${level}`));
      all.push(fetched);
    }
    const elements = all.length === 1 ? all[0] : P(all).apply(withName("FlattenFetched", flatten<RestElement>()));
    type Parts = { record: RestRecord; page: PageSummary; deadLetter: DeadLetter; cursor: CursorCandidate };
    const parts = elements.apply(withName("SplitFetched", split<Parts>(["record", "page", "deadLetter", "cursor"])));
    return { records: parts.record, pages: parts.page, deadLetters: parts.deadLetter, cursors: parts.cursor };
  });
}
