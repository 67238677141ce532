import type { PaginatorConfig } from "../../model/source-config";
import { inferType, widenTypes, type InferredType } from "../../model/entity-schema";
import { getPath } from "./json-path";

/**
 * Guesses from one sample response, for `api2lake init`: where the records are, which field is the
 * primary key, and how the API pages. Pure functions over the parsed body, the response headers and
 * the request URL; every guess is a starting point the user edits (and `api2lake check` verifies).
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The records path: `""` for a top-level array, else the dotted path (up to 2 levels) of the
 * largest array of objects in the body; undefined when the body holds none.
 *
 * @example guessRecordsPath({ meta: {}, data: [{ id: 1 }] }) // "data"
 */
export function guessRecordsPath(body: unknown): string | undefined {
  if (Array.isArray(body)) return "";
  if (!isObject(body)) return undefined;
  let best: { path: string; size: number } | undefined;
  const visit = (value: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key of Object.keys(value)) {
      const v = value[key];
      const path = prefix ? `${prefix}.${key}` : key;
      if (Array.isArray(v) && v.some(isObject) && (!best || v.length > best.size)) best = { path: path, size: v.length };
      else if (isObject(v) && depth < 2) visit(v, path, depth + 1);
    }
  };
  visit(body, "", 1);
  return best?.path;
}

/**
 * The primary key: the first of `id`, `<x>_id`/`<x>Id`, `uuid`, `key` (in the record's key order)
 * whose values are present, scalar and distinct in every sample record; else the first such key at all.
 */
export function guessPrimaryKey(records: readonly Record<string, unknown>[]): string | undefined {
  if (!records.length) return undefined;
  const keys = Object.keys(records[0]);
  const unique = (k: string) => {
    const seen = new Set<string>();
    for (const r of records) {
      const v = r[k];
      if (v === null || v === undefined || typeof v === "object") return false;
      seen.add(String(v));
    }
    return seen.size === records.length;
  };
  const named = (k: string) => /^(id|uuid|key)$/i.test(k) || /(_id|Id)$/.test(k);
  const ordered = [...keys.filter((k) => k.toLowerCase() === "id"), ...keys.filter(named), ...keys];
  return ordered.find(unique);
}

/** The first dotted path among `candidates` that the body holds (non-null). */
function firstPath(body: unknown, candidates: readonly string[]): string | undefined {
  return candidates.find((p) => {
    const v = getPath(body, p);
    return v !== undefined && v !== null;
  });
}

/**
 * The paginator, from (in order) a `Link: <...>; rel="next"` header (RFC 8288), a next-page URL in
 * the body, a cursor in the body, a total page count, a total record count with an offset/limit
 * query, a has-more flag; else `single_page`. Query parameters the paginator sets are named in
 * `pagingParams` so the caller leaves them out of the entity's fixed `params`.
 */
export function guessPaginator(
  body: unknown, headers: Record<string, string>, url: URL,
): { paginator: PaginatorConfig; pagingParams: string[] } {
  const link = headers["link"] ?? "";
  if (/rel="?next"?/.test(link)) return { paginator: { type: "link_header" }, pagingParams: [] };
  const nextUrl = firstPath(body, ["next", "next_url", "nextUrl", "links.next", "paging.next", "_links.next.href"]);
  if (nextUrl && typeof getPath(body, nextUrl) === "string") {
    return { paginator: { type: "next_url", nextUrlPath: nextUrl }, pagingParams: [] };
  }
  const cursor = firstPath(body, ["pagination.endCursor", "pageInfo.endCursor", "next_cursor", "nextCursor", "meta.next_cursor", "cursor"]);
  const hasMore = firstPath(body, ["has_more", "hasMore", "pagination.hasNextPage", "pageInfo.hasNextPage", "meta.has_more"]);
  const sizeParam = ["per_page", "page_size", "pageSize", "limit", "size"].find((p) => url.searchParams.has(p));
  const size = sizeParam ? Number(url.searchParams.get(sizeParam)) : undefined;
  if (cursor) {
    const cursorParam = /endCursor/.test(cursor) ? "after" : "cursor";
    const paginator: PaginatorConfig = { type: "cursor", cursorParam: cursorParam, cursorPath: cursor };
    if (hasMore) paginator.hasMorePath = hasMore;
    return { paginator: paginator, pagingParams: [cursorParam] };
  }
  const totalPages = firstPath(body, ["meta.total_pages", "total_pages", "totalPages", "meta.totalPages", "pagination.total_pages"]);
  if (totalPages || (hasMore && url.searchParams.has("page"))) {
    const paginator: PaginatorConfig = { type: "page_number", pageParam: "page", startPage: 1 };
    if (sizeParam && size && size > 0) {
      paginator.sizeParam = sizeParam;
      paginator.size = size;
    }
    if (totalPages) paginator.totalPagesPath = totalPages;
    else if (hasMore) paginator.hasMorePath = hasMore;
    return { paginator: paginator, pagingParams: ["page", ...(sizeParam ? [sizeParam] : [])] };
  }
  const total = firstPath(body, ["total", "meta.total", "total_count", "totalCount"]);
  if ((total || hasMore) && (url.searchParams.has("offset") || url.searchParams.has("limit"))) {
    const limit = Number(url.searchParams.get("limit") ?? "100");
    const paginator: PaginatorConfig = { type: "offset", offsetParam: "offset", limitParam: "limit", limit: limit > 0 ? limit : 100 };
    if (total) paginator.totalPath = total;
    else if (hasMore) paginator.hasMorePath = hasMore;
    return { paginator: paginator, pagingParams: ["offset", "limit"] };
  }
  return { paginator: { type: "single_page" }, pagingParams: [] };
}

/**
 * Types of the records' top-level scalar fields (`inferType` widened over the sample: one
 * non-null type, else `string`); nested objects and arrays are left to the run's inference.
 */
export function guessFieldTypes(records: readonly Record<string, unknown>[]): Record<string, InferredType> {
  const out: Record<string, InferredType> = {};
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  for (const key of keys) {
    const types = new Set(records.map((r) => inferType(r[key])).filter((t): t is InferredType => t !== undefined));
    const type = widenTypes(types);
    if (type !== undefined && type !== "json") out[key] = type;
  }
  return out;
}
