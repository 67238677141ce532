import { MultiBar, type SingleBar } from "cli-progress";
import { onProgress, type ProgressEvent } from "../model/progress-events";

/**
 * What the console shows while a run fetches: per source and entity, request series done of the
 * planned total (entity x path parameters x slices), requests sent, pages fetched of the total the
 * API declares (the paginator's `totalPagesPath`/`totalPath`; else a count), records per stage
 * (fetched, valid, dead-lettered, kept), the record rate, an ETA (from the pages still to go when a
 * single series declares its total, else from the series still to go), and retries waiting (on a
 * rate limit or a backoff). Events come from the process that runs the DoFns (the direct runner); a Dataflow job
 * runs them on its workers, so there is no live display then (the summary at the end still prints).
 */
export interface EntityProgress {
  source: string;
  entity: string;
  /** Request series planned (known total), done, and stopped early by a failure. */
  seriesPlanned: number;
  seriesDone: number;
  seriesFailed: number;
  requests: number;
  pages: number;
  /** Pages the series declared (their first page's total), and the series that declared none. */
  pagesDeclared: number;
  seriesUndeclared: number;
  fetched: number;
  valid: number;
  dead: number;
  kept: number;
  /** Retries waiting right now, and how many of those wait on the API's rate limit. */
  waiting: number;
  waitingRateLimited: number;
  /** Epoch ms of the first event for this entity, of its first request and of its last page. */
  startedMs: number;
  firstRequestMs?: number;
  lastPageMs?: number;
}

export type ProgressState = Map<string, EntityProgress>;

function entry(state: ProgressState, source: string, entity: string, nowMs: number): EntityProgress {
  const key = `${source}.${entity}`;
  let found = state.get(key);
  if (!found) {
    found = {
      source: source, entity: entity, seriesPlanned: 0, seriesDone: 0, seriesFailed: 0, requests: 0, pages: 0,
      pagesDeclared: 0, seriesUndeclared: 0, fetched: 0,
      valid: 0, dead: 0, kept: 0, waiting: 0, waitingRateLimited: 0, startedMs: nowMs,
    };
    state.set(key, found);
  }
  return found;
}

/** Applies one event at `nowMs` (epoch ms). Stage events name no source: they go to the entity's first entry. */
export function applyProgress(state: ProgressState, event: ProgressEvent, nowMs: number): void {
  if (event.kind === "stage") {
    const known = [...state.values()].find((p) => p.entity === event.entity) ?? entry(state, "", event.entity, nowMs);
    if (event.stage === "valid") known.valid += event.count;
    else if (event.stage === "dead") known.dead += event.count;
    else if (event.stage === "kept") known.kept += event.count;
    return;
  }
  const p = entry(state, event.source, event.entity, nowMs);
  if (event.kind === "planned") p.seriesPlanned += event.series;
  else if (event.kind === "request") {
    p.requests += 1;
    if (p.firstRequestMs === undefined) p.firstRequestMs = nowMs;
  } else if (event.kind === "page") {
    p.pages += 1;
    p.lastPageMs = nowMs;
    p.fetched += event.records;
    if (event.index === 1 && event.seriesPages !== undefined) p.pagesDeclared += event.seriesPages;
    else if (event.index === 1) p.seriesUndeclared += 1;
  } else if (event.kind === "retry_wait") {
    p.waiting += 1;
    if (event.rateLimited) p.waitingRateLimited += 1;
  } else if (event.kind === "retry_done") {
    p.waiting = Math.max(0, p.waiting - 1);
    // Which wait ended is not told; a rate-limited one counts down first only when no other waits remain.
    if (p.waitingRateLimited > p.waiting) p.waitingRateLimited = p.waiting;
  } else if (event.kind === "series_done") {
    p.seriesDone += 1;
    if (event.failure) p.seriesFailed += 1;
  }
}

/** `1234567` -> `1,234,567` (en-US grouping, so output is the same on every machine). */
function n(value: number): string {
  return value.toLocaleString("en-US");
}

/** Seconds as `45s`, `3m05s`, `1h02m`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * One entity's status as text (no bar): `commerce.sales 3/10 series, 31 req, 30 pages | fetched 1,200
 * valid 1,180 dead 20 kept 0 | 240 rec/s, ETA 12s | 1 retry waiting (rate limit)`. The ETA assumes the
 * remaining series take as long as the finished ones did on average; it is absent before the first one ends.
 */
export function describeEntity(p: EntityProgress, nowMs: number): string {
  const remaining = p.seriesPlanned - p.seriesDone;
  const finished = remaining <= 0 && p.seriesPlanned > 0;
  // Rate and ETA count fetching time only: from the first request (an entity may wait for the source's
  // other entities) to now, or to the last page once every series ended.
  const elapsed = Math.max(0.001, ((finished && p.lastPageMs !== undefined ? p.lastPageMs : nowMs) - (p.firstRequestMs ?? p.startedMs)) / 1000);
  const parts: string[] = [];
  const series = p.seriesPlanned ? `${n(p.seriesDone)}/${n(p.seriesPlanned)} series` : `${n(p.seriesDone)} series`;
  // A page total is known only when every series started so far declared one (and one has).
  const pagesKnown = p.pagesDeclared > 0 && p.seriesUndeclared === 0;
  const pages = pagesKnown ? `${n(p.pages)}/${n(p.pagesDeclared)} pages` : `${n(p.pages)} pages`;
  parts.push(`${series}, ${n(p.requests)} req, ${pages}` + (p.seriesFailed ? `, ${n(p.seriesFailed)} failed` : ""));
  parts.push(`fetched ${n(p.fetched)} valid ${n(p.valid)} dead ${n(p.dead)} kept ${n(p.kept)}`);
  const rate = `${n(Math.round(p.fetched / elapsed))} rec/s`;
  // One series (the usual case without slices) with a declared page total: the ETA comes from pages.
  const pagesLeft = p.seriesPlanned === 1 && pagesKnown && remaining > 0 ? p.pagesDeclared - p.pages : 0;
  const eta = pagesLeft > 0 && p.pages > 0 ? `, ETA ${formatSeconds((elapsed / p.pages) * pagesLeft)}`
    : p.seriesDone > 0 && remaining > 0 ? `, ETA ${formatSeconds((elapsed / p.seriesDone) * remaining)}` : finished ? ", fetched all" : "";
  parts.push(rate + eta);
  const limited = p.waitingRateLimited ? ` (${p.waitingRateLimited} on the rate limit)` : "";
  if (p.waiting) parts.push(`${p.waiting} retr${p.waiting === 1 ? "y" : "ies"} waiting${limited}`);
  const name = p.source ? `${p.source}.${p.entity}` : p.entity;
  return `${name} ${parts.join(" | ")}`;
}

/** One plain line for every entity: what a non-terminal gets every few seconds. */
export function plainLine(state: ProgressState, nowMs: number, startedMs: number): string {
  const entities = [...state.values()].map((p) => describeEntity(p, nowMs));
  return `progress ${formatSeconds((nowMs - startedMs) / 1000)}: ${entities.length ? entities.join(" || ") : "planning"}`;
}

export interface ProgressOptions {
  /** Where the display goes (default process.stderr: stdout keeps the summary and `--json-logs`). */
  stream?: NodeJS.WriteStream;
  /** Live display when true (default: `stream.isTTY`), plain lines otherwise. */
  tty?: boolean;
  /** No output at all (`--quiet`). */
  quiet?: boolean;
  /** Epoch ms (tests inject a clock). */
  now?: () => number;
  /** Calls `tick` every `ms` until the returned function is called (default setInterval, unref'd). */
  every?: (ms: number, tick: () => void) => () => void;
  /** Plain-line period in ms (default 5000). */
  intervalMs?: number;
}

function everyInterval(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Starts showing progress from this process's progress events; returns `stop`, which draws the
 * final state (live display) or prints a last plain line, and stops listening.
 */
export function startProgress(options: ProgressOptions = {}): { stop: () => void } {
  if (options.quiet) return { stop: () => undefined };
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const every = options.every ?? everyInterval;
  const state: ProgressState = new Map();
  const startedMs = now();
  if (options.tty ?? stream.isTTY === true) return startLive(stream, state, now);
  let changed = false;
  const unsubscribe = onProgress((event) => {
    applyProgress(state, event, now());
    changed = true;
  });
  const print = () => {
    if (!changed) return;
    changed = false;
    stream.write(plainLine(state, now(), startedMs) + "\n");
  };
  const stopTimer = every(options.intervalMs ?? 5000, print);
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      stopTimer();
      unsubscribe();
      print();
    },
  };
}

/** The terminal display: one cli-progress bar per entity (series done of planned), redrawn by the library. */
function startLive(stream: NodeJS.WriteStream, state: ProgressState, now: () => number): { stop: () => void } {
  const multibar = new MultiBar({
    // No terminal modes are changed (cursor, autowrap): a run killed by a second Ctrl-C leaves the terminal
    // as it was. Lines are cut at the terminal's width instead (`linewrap: true` trims in cli-progress 3.12).
    stream: stream, hideCursor: null, gracefulExit: false, clearOnComplete: false, linewrap: true, emptyOnZero: true, fps: 5,
    format: (options, params, payload: { line: string }) => {
      const size = options.barsize ?? 20;
      const filled = Math.round(params.progress * size);
      return `[${"=".repeat(filled)}${"-".repeat(size - filled)}] ${payload.line}`;
    },
    barsize: 20,
  });
  const bars = new Map<string, SingleBar>();
  const unsubscribe = onProgress((event) => {
    const at = now();
    applyProgress(state, event, at);
    for (const entry of state.entries()) {
      const p = entry[1];
      const payload = { line: describeEntity(p, at) };
      const bar = bars.get(entry[0]);
      if (bar) {
        bar.setTotal(Math.max(p.seriesPlanned, 1));
        bar.update(p.seriesDone, payload);
      } else bars.set(entry[0], multibar.create(Math.max(p.seriesPlanned, 1), p.seriesDone, payload));
    }
  });
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      multibar.update();
      multibar.stop();
    },
  };
}
