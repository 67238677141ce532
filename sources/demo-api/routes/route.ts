/** What a demo route handler receives and returns, and the query helpers they share. */
import type { DemoSizes } from "../sizes";
import type { FleetCatalog } from "../datasets/fleet-catalog";

export interface RouteContext {
  query: URLSearchParams;
  /** Captured path segments (already URL-decoded). */
  params: string[];
  /** `http://<host>:<port>` as the client addressed the server. */
  baseUrl: string;
  seed: number;
  sizes: DemoSizes;
  /** Fault: answer a normal-looking page with no records that says more pages follow. */
  emptyPage: boolean;
  /** Fault: cursor routes hand back the request's own cursor with "more pages" set. */
  repeatCursor: boolean;
  /** The parsed JSON request body (POST routes). */
  body?: unknown;
  /** The mutable vehicle catalog (`/fleet/vehicles`, `/fleet/vehicles/{id}/stats`). */
  catalog: FleetCatalog;
}

export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  /** Matched against the whole pathname; capture groups become `params`. */
  pattern: RegExp;
  /** Default GET. */
  method?: "GET" | "POST";
  handler: (ctx: RouteContext) => RouteResult;
}

/** Thrown by handlers for a client error; becomes `{"error": message}` with that status. */
export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const ok = (body: unknown, headers?: Record<string, string>): RouteResult => ({ status: 200, body: body, headers: headers });

/**
 * An integer query parameter: `fallback` when absent; 400 when not an integer or below `min`;
 * clamped to `max` (as many APIs do with page sizes).
 */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw)) throw new HttpError(400, `${name} must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min) throw new HttpError(400, `${name} must be >= ${min}, got ${raw}`);
  return Math.min(n, max);
}

/** `[start, start + 1, ..., end - 1]` mapped through `make`. */
export function range<T>(start: number, end: number, make: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = start; i < end; i++) out.push(make(i));
  return out;
}
