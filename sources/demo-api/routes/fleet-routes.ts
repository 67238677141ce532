/** Fleet routes (Samsara-shaped): cursor in the body (`pagination.endCursor` / `hasNextPage`). */
import { cursorPosition, encodeCursor, reissueCursor } from "../cursor";
import { FLEET_STATS_END_MS, fleetDriver, fleetStatLowerBound, fleetVehicleStat } from "../datasets/fleet";
import { HttpError, intParam, ok, range, type Route, type RouteContext, type RouteResult } from "./route";

export const MAX_FLEET_LIMIT = 512;

/** One page of a cursor stream over positions [lo, hi). */
function cursorPage<T>(ctx: RouteContext, kind: string, lo: number, hi: number, make: (i: number) => T): RouteResult {
  const after = ctx.query.get("after");
  const start = Math.max(cursorPosition(kind, after), lo);
  const limit = intParam(ctx.query, "limit", MAX_FLEET_LIMIT, 1, MAX_FLEET_LIMIT);
  const end = Math.min(start + limit, hi);
  if (ctx.emptyPage) return ok({ data: [], pagination: { endCursor: reissueCursor(kind, start, after), hasNextPage: true } });
  const data = range(start, end, make);
  if (ctx.repeatCursor) return ok({ data: data, pagination: { endCursor: after ?? "", hasNextPage: true } });
  const more = end < hi;
  return ok({ data: data, pagination: { endCursor: more ? encodeCursor(kind, end) : "", hasNextPage: more } });
}

function timeParam(ctx: RouteContext, name: string, fallback?: number): number {
  const raw = ctx.query.get(name);
  if (raw === null || raw === "") {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, `${name} is required (RFC 3339)`);
  }
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw new HttpError(400, `${name} must be an RFC 3339 time, got ${JSON.stringify(raw)}`);
  return ms;
}

/** `updated_since` as epoch ms, or undefined when absent. */
function sinceParam(ctx: RouteContext): number | undefined {
  return ctx.query.get("updated_since") === null ? undefined : timeParam(ctx, "updated_since");
}

export const fleetRoutes: Route[] = [
  {
    // The catalog: vehicles updated at or after `updated_since`, oldest change first.
    pattern: /^\/fleet\/vehicles$/,
    handler: (ctx) => {
      const vehicles = ctx.catalog.listVehicles(sinceParam(ctx));
      return cursorPage(ctx, "vehicles", 0, vehicles.length, (i) => vehicles[i]);
    },
  },
  {
    // One vehicle's stats updated at or after `updated_since`; `order=desc` gives the newest first.
    pattern: /^\/fleet\/vehicles\/([^/]+)\/stats$/,
    handler: (ctx) => {
      const order = ctx.query.get("order") === "desc" ? "desc" : "asc";
      const stats = ctx.catalog.listStats(ctx.params[0], sinceParam(ctx), order);
      if (stats === undefined) throw new HttpError(404, `no vehicle ${ctx.params[0]}`);
      return cursorPage(ctx, "vehicle-stats", 0, stats.length, (i) => stats[i]);
    },
  },
  {
    pattern: /^\/fleet\/drivers$/,
    handler: (ctx) => cursorPage(ctx, "drivers", 0, ctx.sizes.drivers, (i) => fleetDriver(ctx.seed, i)),
  },
  {
    pattern: /^\/fleet\/vehicles\/stats\/history$/,
    handler: (ctx) => {
      const startMs = timeParam(ctx, "startTime");
      const endMs = timeParam(ctx, "endTime", FLEET_STATS_END_MS);
      if (endMs < startMs) throw new HttpError(400, "endTime must not be before startTime");
      const perDay = ctx.sizes.vehicleStatsPerDay;
      const lo = fleetStatLowerBound(ctx.seed, startMs, perDay);
      const hi = fleetStatLowerBound(ctx.seed, endMs, perDay);
      return cursorPage(ctx, "stats", lo, hi, (g) => fleetVehicleStat(ctx.seed, g, perDay));
    },
  },
];
