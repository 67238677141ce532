/** Commerce routes: page number with meta (products), page number with has_more (customers), offset (sales). */
import { commerceCustomer, commerceProduct, commerceSale } from "../datasets/commerce";
import { intParam, ok, range, type Route, type RouteContext } from "./route";

export const MAX_PER_PAGE = 500;
export const MAX_OFFSET_LIMIT = 1000;

function pageWindow(ctx: RouteContext, total: number): { page: number; perPage: number; start: number; end: number } {
  const page = intParam(ctx.query, "page", 1, 1, 1e12);
  const perPage = intParam(ctx.query, "per_page", 50, 1, MAX_PER_PAGE);
  const start = Math.min((page - 1) * perPage, total);
  return { page: page, perPage: perPage, start: start, end: Math.min(start + perPage, total) };
}

export const commerceRoutes: Route[] = [
  {
    pattern: /^\/commerce\/products$/,
    handler: (ctx) => {
      const total = ctx.sizes.products;
      const w = pageWindow(ctx, total);
      const data = ctx.emptyPage ? [] : range(w.start, w.end, (i) => commerceProduct(ctx.seed, i));
      const totalPages = Math.ceil(total / w.perPage);
      return ok({ data: data, meta: { page: w.page, per_page: w.perPage, total_pages: ctx.emptyPage ? Math.max(totalPages, w.page + 1) : totalPages, total: total } });
    },
  },
  {
    pattern: /^\/commerce\/customers$/,
    handler: (ctx) => {
      const total = ctx.sizes.customers;
      const w = pageWindow(ctx, total);
      if (ctx.emptyPage) return ok({ data: [], has_more: true });
      return ok({ data: range(w.start, w.end, (j) => commerceCustomer(ctx.seed, j)), has_more: w.end < total });
    },
  },
  {
    pattern: /^\/commerce\/sales$/,
    handler: (ctx) => {
      const total = ctx.sizes.sales;
      const offset = Math.min(intParam(ctx.query, "offset", 0, 0, 1e15), total);
      const limit = intParam(ctx.query, "limit", 100, 1, MAX_OFFSET_LIMIT);
      const end = Math.min(offset + limit, total);
      const data = ctx.emptyPage ? [] : range(offset, end, (j) => commerceSale(ctx.seed, j, ctx.sizes.products, ctx.sizes.customers));
      return ok({ data: data, total: ctx.emptyPage ? Math.max(total, offset + limit + 1) : total });
    },
  },
];
