/** Invoices route: the next page's full URL in the body (`next`, null on the last page). */
import { cursorPosition, encodeCursor, reissueCursor } from "../cursor";
import { invoice } from "../datasets/invoices";
import { intParam, ok, range, type Route } from "./route";

export const MAX_INVOICES_LIMIT = 1000;

export const invoicesRoutes: Route[] = [
  {
    pattern: /^\/invoices$/,
    handler: (ctx) => {
      const total = ctx.sizes.invoices;
      const cursor = ctx.query.get("cursor");
      const start = Math.min(cursorPosition("invoices", cursor), total);
      const limit = intParam(ctx.query, "limit", 100, 1, MAX_INVOICES_LIMIT);
      const end = Math.min(start + limit, total);
      const nextUrl = (c: string): string => `${ctx.baseUrl}/invoices?cursor=${encodeURIComponent(c)}&limit=${limit}`;
      if (ctx.emptyPage) return ok({ items: [], next: nextUrl(reissueCursor("invoices", start, cursor)) });
      const items = range(start, end, (i) => invoice(ctx.seed, i));
      if (ctx.repeatCursor) return ok({ items: items, next: nextUrl(cursor ?? "") });
      return ok({ items: items, next: end < total ? nextUrl(encodeCursor("invoices", end)) : null });
    },
  },
];
