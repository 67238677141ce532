/** What a paginator sees of a fetched page. */
export interface PageResponse {
  body: unknown;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** How many records the page held (after `recordsPath`). */
  recordCount: number;
  /** The URL the page was fetched from (no credentials). */
  url: URL;
}

/**
 * One pagination style: it sets the first request's parameters, reads its state from each
 * response, says whether there is a next page and builds that request. Instances are
 * stateful and serve one request series.
 */
export interface Paginator {
  /** The first request of the series (a new URL; the argument is not changed). */
  init(url: URL): URL;
  update(response: PageResponse): void;
  /** Set after `update` when the response proves the series broken (e.g. a looping cursor): a fetch dead letter. */
  failure?(): string | undefined;
  hasNext(): boolean;
  /** The next request, derived from the previous one (a new URL). */
  next(previous: URL): URL;
  /** Lineage id of the page last requested: page number, offset, cursor or URL. */
  pageId(): string;
  /** Pages of the whole series, when the responses declare it (`totalPagesPath`, `totalPath`): progress display. */
  totalPages?(): number | undefined;
  /** Values to place in the request body at dotted paths (`variables.after`), for the request last built. */
  bodyValues?(): Record<string, unknown>;
}

export function withParam(url: URL, name: string, value: string): URL {
  const out = new URL(url.href);
  out.searchParams.set(name, value);
  return out;
}
