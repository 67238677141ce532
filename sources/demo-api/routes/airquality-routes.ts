/**
 * Air-quality routes in AirQino's shape: `/v3/getStationHourlyAvg/<station_id>?start_date=&end_date=`
 * (bounds `yyyyMMdd-HHmm`, UTC; start inclusive, end exclusive) answers one page
 * `{ header: { station_name, station_lat, station_lon }, data: [...] }`.
 */
import * as luxon from "luxon";
import { AIRQUALITY_START_MS, airQualityDuplicated, airQualityReading, airQualityReadings, airQualityStation, stationIndexOf, type Reading } from "../datasets/airquality";
import { HttpError, ok, range, type Route } from "./route";

/** The zone of a station's wall-clock timestamps: 283164601 is in Italy, the others in Abidjan (as the preset declares). */
export function stationZoneOf(id: string): string {
  return id === "283164601" ? "Europe/Rome" : "Africa/Abidjan";
}

/**
 * A range query parameter as AirQino writes it, `yyyyMMdd-HHmm` in UTC (`20240101-0000`), or
 * undefined when absent; 400 when it is not such a time.
 */
function instantParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  const at = /^\d{8}-\d{4}$/.test(raw) ? luxon.DateTime.fromFormat(raw, "yyyyMMdd-HHmm", { zone: "utc" }) : undefined;
  if (!at || !at.isValid) throw new HttpError(400, `${name} must be written yyyyMMdd-HHmm (e.g. 20240101-0000), got ${JSON.stringify(raw)}`);
  return at.toMillis();
}

/** No zone is more than 14 hours from UTC: a wall-clock window this much wider holds every reading of an instant window. */
const ZONE_MARGIN_MS = 15 * 3_600_000;

/**
 * Readings of a station (as `airQualityReadings`), restricted by optional `from` (inclusive) and
 * `to` (exclusive) instants to those whose wall-clock time, read in the station's zone (luxon; a
 * time in a DST gap moves forward), falls inside. Only the hours near the window are generated.
 */
function readingsBetween(seed: number, index: number, days: number, zone: string, from: number | undefined, to: number | undefined): Reading[] {
  if (from === undefined && to === undefined) return airQualityReadings(seed, index, days);
  const first = Math.max(0, Math.floor(((from ?? AIRQUALITY_START_MS) - ZONE_MARGIN_MS - AIRQUALITY_START_MS) / 3_600_000));
  const last = Math.min(days * 24, Math.ceil(((to ?? Infinity) + ZONE_MARGIN_MS - AIRQUALITY_START_MS) / 3_600_000));
  const rows: Reading[] = [];
  for (let h = first; h < last; h++) {
    const row = airQualityReading(seed, index, h);
    const ms = luxon.DateTime.fromSQL(row.timestamp, { zone: zone }).toMillis();
    if ((from !== undefined && ms < from) || (to !== undefined && ms >= to)) continue;
    rows.push(row);
    if (airQualityDuplicated(seed, index, h)) rows.push(Object.assign({}, row));
  }
  return rows;
}

export const airQualityRoutes: Route[] = [
  {
    pattern: /^\/v3\/stations$/,
    handler: (ctx) => ok({ data: ctx.emptyPage ? [] : range(0, ctx.sizes.stations, (i) => airQualityStation(ctx.seed, i)) }),
  },
  {
    pattern: /^\/v3\/getStationHourlyAvg\/([^/]+)$/,
    handler: (ctx) => {
      const index = stationIndexOf(ctx.params[0], ctx.sizes.stations);
      if (index < 0) throw new HttpError(404, `station ${JSON.stringify(ctx.params[0])} not found`);
      const from = instantParam(ctx.query, "start_date");
      const to = instantParam(ctx.query, "end_date");
      const readings = ctx.emptyPage ? [] : readingsBetween(ctx.seed, index, ctx.sizes.readingsDays, stationZoneOf(ctx.params[0]), from, to);
      // The real API's header names the station but carries no id: the id is in the request path.
      const station = airQualityStation(ctx.seed, index);
      const header = { station_name: station.station_name, station_lat: station.station_lat, station_lon: station.station_lon };
      return ok({ header: header, data: readings });
    },
  },
];
