/**
 * The progress channel: sources and the graph's steps report what they just did (a request sent, a
 * page fetched, a retry waiting, records through a stage) and whoever listens in this process - the
 * console display (pipeline/progress.ts) and the run log (pipeline/run-log.ts) - turns it into
 * output. Emitting with no listener costs a loop over an empty set, so code running on a Dataflow
 * worker (another process, no listener) is unaffected: there is no live display there.
 *
 * Events carry no secrets: URLs and reasons are the already-redacted ones their emitters hold.
 */
export type ProgressEvent =
  /** Request series planned for an entity (entity x path parameters x slices): the known total. */
  | { kind: "planned"; source: string; entity: string; series: number }
  /** One HTTP request sent (every attempt counts). `url` has secrets masked. */
  | { kind: "request"; source: string; entity: string; url: string }
  /**
   * One page fetched: `records` kept from it, `status` the HTTP status, `attempts` it took; `index` is its
   * 1-based place in its series and `seriesPages` the series' page count when the API declares it.
   */
  | {
    kind: "page"; source: string; entity: string; page: string; index: number; seriesPages?: number;
    records: number; status: number; attempts: number; url: string;
  }
  /** A request waits before its retry: `ms` milliseconds, `rateLimited` when the API asked for it (429/503 headers). */
  | { kind: "retry_wait"; source: string; entity: string; ms: number; rateLimited: boolean; reason: string }
  /** The retry wait of `retry_wait` is over. */
  | { kind: "retry_done"; source: string; entity: string }
  /** A request series ended; `failure` is its (redacted) reason when it stopped early. */
  | { kind: "series_done"; source: string; entity: string; failure?: string }
  /** `count` more records of an entity passed a stage of the graph (e.g. "cleaned", "dead", "kept"). */
  | { kind: "stage"; entity: string; stage: string; count: number };

export type ProgressListener = (event: ProgressEvent) => void;

const listeners = new Set<ProgressListener>();

/** Tells every listener of this process; a listener that throws is dropped, never the caller's work. */
export function emitProgress(event: ProgressEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      listeners.delete(listener);
    }
  }
}

/** `planned` events for a run's work items (anything with an `entity`): one per entity with its series count. */
export function emitPlanned(source: string, items: readonly { entity: string }[]): void {
  const perEntity: Record<string, number> = {};
  for (const item of items) perEntity[item.entity] = (perEntity[item.entity] ?? 0) + 1;
  for (const entity of Object.keys(perEntity)) emitProgress({ kind: "planned", source: source, entity: entity, series: perEntity[entity] });
}

/** Listens until the returned function is called. */
export function onProgress(listener: ProgressListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
