import { splitRange, type DateRange, type Slice } from "./slices";

/**
 * Per-entity incremental state at `state/<source>/<entity>.json`: the watermark (end of the
 * last contiguous completed slice), the largest incremental cursor seen, and the merged
 * intervals already fetched (normal runs and backfills), so a backfill can ask for exactly
 * what is missing. Reading and planning never write; the pipeline calls `advanceWatermark`
 * or `recordBackfill` only after the sinks committed.
 */

/** The few store methods state needs; the lake backends (local folder, GCS) satisfy it. */
export interface TextStore {
  readText(path: string): Promise<string | undefined>;
  writeText(path: string, text: string): Promise<void>;
}

export interface EntityState {
  source: string;
  entity: string;
  /** End of the last completed slice of normal runs (UTC ISO), or null before the first run. */
  watermark: string | null;
  /** Largest incremental cursor value seen (numbers compare as numbers, strings as strings). */
  cursor: string | number | null;
  /** Merged, sorted intervals fetched so far. */
  fetched: Slice[];
  updated_at: string | null;
}

export function statePath(source: string, entity: string): string {
  return `state/${source}/${entity}.json`;
}

export function emptyState(source: string, entity: string): EntityState {
  return { source: source, entity: entity, watermark: null, cursor: null, fetched: [], updated_at: null };
}

export async function readState(store: TextStore, source: string, entity: string): Promise<EntityState> {
  const path = statePath(source, entity);
  const text = await store.readText(path);
  if (text === undefined) return emptyState(source, entity);
  let parsed: Partial<EntityState>;
  try {
    parsed = JSON.parse(text) as Partial<EntityState>;
  } catch (error) {
    throw new Error(`${path}: state file is not valid JSON (${(error as Error).message})`);
  }
  return {
    source: source,
    entity: entity,
    watermark: typeof parsed.watermark === "string" ? parsed.watermark : null,
    cursor: typeof parsed.cursor === "string" || typeof parsed.cursor === "number" ? parsed.cursor : null,
    fetched: Array.isArray(parsed.fetched) ? mergeSlices(parsed.fetched) : [],
    updated_at: typeof parsed.updated_at === "string" ? parsed.updated_at : null,
  };
}

const ms = (iso: string) => new Date(iso).getTime();

/** Sorts and merges overlapping or touching intervals (returns new objects). */
export function mergeSlices(slices: readonly Slice[]): Slice[] {
  const sorted = slices
    .map((s) => ({ start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString() }))
    .filter((s) => ms(s.end) > ms(s.start))
    .sort((a, b) => ms(a.start) - ms(b.start));
  const out: Slice[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && ms(s.start) <= ms(last.end)) {
      if (ms(s.end) > ms(last.end)) last.end = s.end;
    } else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** The parts of `range` not covered by `covered`. */
export function subtractSlices(range: Slice, covered: readonly Slice[]): Slice[] {
  const gaps: Slice[] = [];
  let cursor = ms(range.start);
  const end = ms(range.end);
  for (const c of mergeSlices(covered)) {
    if (ms(c.end) <= cursor) continue;
    if (ms(c.start) >= end) break;
    if (ms(c.start) > cursor) gaps.push({ start: new Date(cursor).toISOString(), end: c.start });
    cursor = Math.max(cursor, ms(c.end));
  }
  if (cursor < end) gaps.push({ start: new Date(cursor).toISOString(), end: range.end });
  return gaps;
}

export interface PlanOptions {
  /** ISO-8601 step of one slice (`slices.step`), e.g. `P1D`. */
  step: string;
  /** "Now" for normal runs; defaults to the current time. */
  now?: Date;
  /** Where a normal run starts when there is no watermark yet. */
  start?: Date;
}

/**
 * The slices a run must fetch.
 * - Backfill (`range` given): exactly the parts of the range not in `alreadyFetched`, split
 *   by `step`; the watermark is not consulted and is not moved by a backfill.
 * - Normal run (`range` undefined): from the watermark (or `start`) to now, split by `step`;
 *   the last slice ends at now. Nothing when the watermark has reached now.
 * @example planSlices({ from: d("2024-01-01"), to: d("2024-01-10") }, null, [{ start: "2024-01-01T00:00:00.000Z", end: "2024-01-05T00:00:00.000Z" }], { step: "P1D" }) // 5 slices, Jan 5 - Jan 10
 */
export function planSlices(range: DateRange | undefined, watermark: string | null | undefined, alreadyFetched: readonly Slice[], options: PlanOptions): Slice[] {
  if (range) {
    const wanted = { start: range.from.toISOString(), end: range.to.toISOString() };
    return subtractSlices(wanted, alreadyFetched).flatMap((gap) => splitRange({ from: new Date(gap.start), to: new Date(gap.end) }, options.step));
  }
  const from = watermark ? new Date(watermark) : options.start;
  if (!from) throw new Error("no watermark yet: give a start date (--from) for the first run");
  const now = options.now ?? new Date();
  if (from.getTime() >= now.getTime()) return [];
  return splitRange({ from: from, to: now }, options.step);
}

function maxCursor(a: string | number | null, b: string | number | null | undefined): string | number | null {
  if (b === undefined || b === null) return a;
  if (a === null) return b;
  if (typeof a === "number" && typeof b === "number") return Math.max(a, b);
  return String(b) > String(a) ? b : a;
}

export interface Completed {
  /** Slices whose pages all reached the sinks. */
  slices?: readonly Slice[];
  /** Largest incremental cursor value among committed records. */
  cursor?: string | number | null;
}

function updatedState(state: EntityState, completed: Completed, moveWatermark: boolean, now: Date): EntityState {
  const fetched = mergeSlices(state.fetched.concat(completed.slices ?? []));
  let watermark = state.watermark;
  if (moveWatermark) {
    const ordered = mergeSlices(completed.slices ?? []);
    let mark = watermark ?? (ordered.length ? ordered[0].start : null);
    // Extend only through contiguous fetched time: a failed slice keeps the watermark before it.
    for (const interval of fetched) {
      if (mark !== null && ms(interval.start) <= ms(mark) && ms(interval.end) > ms(mark)) mark = interval.end;
    }
    watermark = mark;
  }
  return {
    source: state.source,
    entity: state.entity,
    watermark: watermark,
    cursor: moveWatermark ? maxCursor(state.cursor, completed.cursor) : state.cursor,
    fetched: fetched,
    updated_at: now.toISOString(),
  };
}

/** After a normal run committed: moves the watermark over contiguous completed slices and records them. */
export async function advanceWatermark(store: TextStore, source: string, entity: string, completed: Completed, now: Date = new Date()): Promise<EntityState> {
  const next = updatedState(await readState(store, source, entity), completed, true, now);
  await store.writeText(statePath(source, entity), JSON.stringify(next, null, 2) + "\n");
  return next;
}

/** After a backfill committed: records its slices as fetched; the watermark stays where it was. */
export async function recordBackfill(store: TextStore, source: string, entity: string, completed: Completed, now: Date = new Date()): Promise<EntityState> {
  const next = updatedState(await readState(store, source, entity), completed, false, now);
  await store.writeText(statePath(source, entity), JSON.stringify(next, null, 2) + "\n");
  return next;
}
