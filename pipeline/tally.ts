import { parDo, withName, windowParam, timestampParam, paneInfoParam, type PCollection } from "apache-beam";
import type { Instant, PaneInfo, Window, WindowedValue } from "apache-beam/values";
import { requireForSerialization } from "apache-beam/serialization";

/**
 * Counts that travel as data: a DoFn adds what it saw to a per-bundle tally and emits the tally
 * once, at the end of the bundle, in the window of the bundle's last element. The commit stage
 * (pipeline/commit-stage.ts) sums them. A bundle the runner retries emits its tally again and the
 * failed attempt's output is discarded, so unlike a side effect (a file, a counter bumped from a
 * failed attempt) a tally counts each element once on every runner.
 */

/** Counts by name: `<entity>/<counter>` (manifest.ts COUNTERS), `dataproducts/<table>` (rows). */
export type Tally = Record<string, number>;

/** Adds `n` to `tally[name]` (a zero still records the name: a data product that wrote 0 rows says so). */
export function addTally(tally: Tally, name: string, n: number): void {
  tally[name] = (tally[name] ?? 0) + n;
}

/** The sum of tallies, name by name. */
export function sumTallies(tallies: Iterable<Tally>): Tally {
  const out: Tally = {};
  for (const t of tallies) for (const name of Object.keys(t)) addTally(out, name, t[name]);
  return out;
}

/** Window, timestamp and pane of the last element a bundle processed: its tally is emitted there. */
export interface LastSeen {
  windows: Window[];
  timestamp: Instant;
  pane: PaneInfo;
}

/** The context parameters a tallying DoFn needs (see `windowParams`). */
export interface WindowLookups {
  window: { lookup: () => Window };
  timestamp: { lookup: () => Instant };
  pane: { lookup: () => PaneInfo };
}

/** Context parameters for `lastSeen`, to spread into a DoFn's context. */
export function windowParams() {
  return { window: windowParam(), timestamp: timestampParam(), pane: paneInfoParam() };
}

/** Where the current element sits (read in `process`: finishBundle has no element context). */
export function lastSeen(ctx: WindowLookups): LastSeen {
  return { windows: [ctx.window.lookup()], timestamp: ctx.timestamp.lookup(), pane: ctx.pane.lookup() };
}

/**
 * The bundle's tally as one output element `wrap(tally)` in the last element's window; nothing
 * when the bundle saw no element or counted nothing.
 */
export function tallyOut<T>(tally: Tally | undefined, last: LastSeen | undefined, wrap: (t: Tally) => T): WindowedValue<T>[] {
  if (tally === undefined || last === undefined || Object.keys(tally).length === 0) return [];
  return [{ value: wrap(tally), windows: last.windows, timestamp: last.timestamp, pane: last.pane }];
}

interface TallyState {
  tally: Tally | undefined;
  last: LastSeen | undefined;
}

/**
 * A counting branch: `count(element, tally)` adds each element's counts; one `{ tally }` element
 * per bundle leaves (none for a bundle that counted nothing). The input is not passed on.
 */
export function tallyEach<T>(label: string, count: (element: T, tally: Tally) => void) {
  return withName(label, (input: PCollection<T>): PCollection<{ tally: Tally }> =>
    input.apply(parDo({
      startBundle: function (this: TallyState) {
        this.tally = {};
        this.last = undefined;
      },
      process: function (this: TallyState, element: T, ctx: WindowLookups) {
        if (this.tally === undefined) this.tally = {};
        count(element, this.tally);
        this.last = lastSeen(ctx);
        return undefined;
      },
      finishBundle: function (this: TallyState) {
        const out = tallyOut(this.tally, this.last, (t: Tally) => ({ tally: t }));
        this.tally = undefined;
        this.last = undefined;
        return out;
      },
    }, windowParams())));
}

requireForSerialization("api2lake/dist/pipeline/tally", {
  addTally: addTally,
  sumTallies: sumTallies,
  lastSeen: lastSeen,
  tallyOut: tallyOut,
});
