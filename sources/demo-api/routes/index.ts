/** The one registry of demo routes. */
import { airQualityRoutes } from "./airquality-routes";
import { commerceRoutes } from "./commerce-routes";
import { fleetRoutes } from "./fleet-routes";
import { graphqlRoutes } from "./graphql-routes";
import { invoicesRoutes } from "./invoices-routes";
import { jobsRoutes } from "./jobs-routes";
import type { Route } from "./route";

export const ROUTES: readonly Route[] = [...commerceRoutes, ...fleetRoutes, ...airQualityRoutes, ...jobsRoutes, ...invoicesRoutes, ...graphqlRoutes];

/** The route for a pathname and its decoded captures, or undefined. */
export function matchRoute(pathname: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (m !== null) return { route: route, params: m.slice(1).map((s) => decodeURIComponent(s)) };
  }
  return undefined;
}
