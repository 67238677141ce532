/**
 * A GraphQL-style endpoint (`POST /commerce/graphql`) in the Relay connection shape Shopify and GitHub
 * use: `{ query, variables: { first, after } }` -> `{ data: { orders: { edges: [{ cursor, node }],
 * pageInfo: { endCursor, hasNextPage } } } }`. The orders are the commerce sales. The query text is not
 * parsed: it must mention `orders`; unknown cursors and a missing body are GraphQL `errors` in a 200.
 */
import { commerceSale } from "../datasets/commerce";
import { decodeCursor, encodeCursor } from "../cursor";
import { ok, range, type Route, type RouteResult } from "./route";

export const MAX_GRAPHQL_FIRST = 250;

function graphqlError(message: string): RouteResult {
  return ok({ errors: [{ message: message }], data: null });
}

export const graphqlRoutes: Route[] = [
  {
    pattern: /^\/commerce\/graphql$/,
    method: "POST",
    handler: (ctx) => {
      const request = ctx.body as { query?: unknown; variables?: { first?: unknown; after?: unknown } } | undefined;
      if (!request || typeof request.query !== "string" || !request.query.includes("orders")) return graphqlError("query must select orders");
      const variables = request.variables ?? {};
      const first = variables.first === undefined ? 50 : variables.first;
      if (typeof first !== "number" || !Number.isInteger(first) || first < 1) return graphqlError("variables.first must be a positive integer");
      let start = 0;
      if (variables.after !== undefined && variables.after !== null) {
        const decoded = typeof variables.after === "string" ? decodeCursor("orders", variables.after) : undefined;
        if (decoded === undefined) return graphqlError("variables.after is not a valid cursor");
        start = decoded.position;
      }
      const total = ctx.sizes.sales;
      const end = Math.min(start + Math.min(first, MAX_GRAPHQL_FIRST), total);
      const edges = ctx.emptyPage ? [] : range(start, end, (j) => ({
        cursor: encodeCursor("orders", j + 1),
        node: commerceSale(ctx.seed, j, ctx.sizes.products, ctx.sizes.customers),
      }));
      const endCursor = end > start ? encodeCursor("orders", end) : variables.after ?? null;
      return ok({ data: { orders: { edges: edges, pageInfo: { endCursor: endCursor, hasNextPage: end < total } } } });
    },
  },
];
