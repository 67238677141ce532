/** Air-quality routes (AirQino-shaped): single page, header + data. */
import { airQualityReadings, airQualityStation, stationIndexOf } from "../datasets/airquality";
import { HttpError, ok, range, type Route } from "./route";

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
      return ok({ header: airQualityStation(ctx.seed, index), data: ctx.emptyPage ? [] : airQualityReadings(ctx.seed, index, ctx.sizes.readingsDays) });
    },
  },
];
