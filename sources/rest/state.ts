import { requireForSerialization } from "apache-beam/serialization";
import { splitRange, type DateRange, type Slice } from "./slices";
import { laterCursor, type CursorValue } from "./cursor";
import type { CursorCandidate } from "./work-item";

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
  /** A child entity's incremental cursor per parent key (see sources/rest/parent-child.ts `parentKey`). */
  parents: Record<string, string | number>;
  updated_at: string | null;
}

export function statePath(source: string, entity: string): string {
  return `state/${source}/${entity}.json`;
}

export function emptyState(source: string, entity: string): EntityState {
  return { source: source, entity: entity, watermark: null, cursor: null, fetched: [], parents: {}, updated_at: null };
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
    parents: cursorsByParent(parsed.parents),
    updated_at: typeof parsed.updated_at === "string" ? parsed.updated_at : null,
  };
}

function cursorsByParent(value: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [key, cursor] of Object.entries(value)) if (typeof cursor === "string" || typeof cursor === "number") out[key] = cursor;
  return out;
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
    parents: state.parents,
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

/** A run's cursor candidates of one incremental entity, folded (see pipeline/cursor-state.ts). */
export interface PendingCursors {
  source: string;
  entity: string;
  /** Largest cursor of the entity's series, or null when a series stopped early or none had a cursor. */
  cursor: CursorValue | null;
  /** A child entity's largest cursor per parent key, only for parents whose series all completed. */
  parents: Record<string, CursorValue>;
}

/**
 * Folds one run's cursor candidates: the entity cursor moves only when every series of the entity
 * completed; a parent key's cursor moves only when every series of that parent completed (a parent
 * whose child fetch failed keeps its committed cursor; the others move).
 */
export function foldCursorCandidates(source: string, entity: string, candidates: Iterable<CursorCandidate>): PendingCursors {
  let cursor: CursorValue | null = null;
  let allComplete = true;
  const parents: Record<string, CursorValue | null> = {};
  const failedParents = new Set<string>();
  for (const c of candidates) {
    if (c.parentKey !== undefined) {
      if (!c.complete) failedParents.add(c.parentKey);
      parents[c.parentKey] = laterCursor(parents[c.parentKey], c.cursor);
    } else {
      if (!c.complete) allComplete = false;
      cursor = laterCursor(cursor, c.cursor);
    }
  }
  const kept: Record<string, CursorValue> = {};
  for (const key of Object.keys(parents).sort()) {
    const value = parents[key];
    if (value !== null && !failedParents.has(key)) kept[key] = value;
  }
  return { source: source, entity: entity, cursor: allComplete ? cursor : null, parents: kept };
}

/**
 * After a run committed: the entity's cursor and its per-parent cursors become the larger of the
 * committed and the run's values (a cursor never moves back, so a lag re-read cannot rewind it).
 */
export async function advanceCursors(store: TextStore, pending: PendingCursors, now: Date = new Date()): Promise<EntityState> {
  const state = await readState(store, pending.source, pending.entity);
  const parents: Record<string, CursorValue> = { ...state.parents };
  for (const [key, value] of Object.entries(pending.parents)) parents[key] = laterCursor(parents[key], value) as CursorValue;
  const next: EntityState = { ...state, cursor: laterCursor(state.cursor, pending.cursor), parents: parents, updated_at: now.toISOString() };
  await store.writeText(statePath(pending.source, pending.entity), JSON.stringify(next, null, 2) + "\n");
  return next;
}

// The graph's pending-cursor step folds candidates through the module (pipeline/cursor-state.ts).
requireForSerialization("api2lake/dist/sources/rest/state", { foldCursorCandidates: foldCursorCandidates });
