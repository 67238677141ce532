import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createPaginator, PAGINATORS } from "../../sources/rest/paginators/index";
import { parseNextLink } from "../../sources/rest/paginators/link-header";
import type { PageResponse, Paginator } from "../../sources/rest/paginators/paginator";
import { paginatorSchema, type PaginatorConfig } from "../../model/source-config";

const BASE = new URL("http://api.test/items?x=1");

/** Drives a paginator over canned bodies; returns the URLs it requested. */
function drive(p: Paginator, bodies: { body: unknown; headers?: Record<string, string>; count: number }[]): string[] {
  let url = p.init(BASE);
  const urls = [url.pathname + url.search];
  for (const b of bodies) {
    const response: PageResponse = { body: b.body, headers: b.headers ?? {}, recordCount: b.count, url: url };
    p.update(response);
    if (!p.hasNext()) break;
    url = p.next(url);
    urls.push(url.pathname + url.search);
  }
  return urls;
}

const cfg = (c: unknown) => paginatorSchema.parse(c) as PaginatorConfig;

test("the registry covers every schema type", () => {
  const types = paginatorSchema.options.map((o) => o.shape.type.value).sort();
  assert.deepEqual(Object.keys(PAGINATORS).sort(), types);
});

test("page_number: total pages, has-more flag, empty page when nothing is declared", () => {
  const total = createPaginator(cfg({ type: "page_number", totalPagesPath: "meta.total_pages", sizeParam: "per_page", size: 2 }));
  const page = (n: number, pages: number) => ({ body: { data: [1], meta: { total_pages: pages } }, count: n });
  assert.deepEqual(drive(total, [page(2, 3), { body: { data: [], meta: { total_pages: 3 } }, count: 0 }, page(1, 3), page(1, 3)]), [
    "/items?x=1&page=1&per_page=2", "/items?x=1&page=2&per_page=2", "/items?x=1&page=3&per_page=2",
  ]);
  const flag = createPaginator(cfg({ type: "page_number", hasMorePath: "has_more" }));
  assert.equal(drive(flag, [{ body: { has_more: true }, count: 0 }, { body: { has_more: false }, count: 3 }]).length, 2);
  const plain = createPaginator(cfg({ type: "page_number", startPage: 0 }));
  assert.deepEqual(drive(plain, [{ body: {}, count: 5 }, { body: {}, count: 0 }]), ["/items?x=1&page=0", "/items?x=1&page=1"]);
});

// Issue 9: offsets advance by the records returned; a short page ends nothing, only the stop rule does.
test("offset: advances by records returned; stops on total, flag or an empty page", () => {
  const withTotal = createPaginator(cfg({ type: "offset", limit: 10, totalPath: "total" }));
  const urls = drive(withTotal, [{ body: { total: 25 }, count: 10 }, { body: { total: 25 }, count: 5 }, { body: { total: 25 }, count: 10 }, { body: { total: 25 }, count: 5 }]);
  assert.deepEqual(urls, ["/items?x=1&offset=0&limit=10", "/items?x=1&offset=10&limit=10", "/items?x=1&offset=15&limit=10"]);
  const noTotal = createPaginator(cfg({ type: "offset", limit: 10 }));
  assert.deepEqual(drive(noTotal, [{ body: {}, count: 10 }, { body: {}, count: 7 }, { body: {}, count: 0 }, { body: {}, count: 10 }]).map((u) => new URL(u, "http://x").searchParams.get("offset")), ["0", "10", "17"]);
  const flag = createPaginator(cfg({ type: "offset", limit: 10, hasMorePath: "more" }));
  assert.equal(drive(flag, [{ body: { more: true }, count: 4 }, { body: { more: false }, count: 4 }, { body: { more: true }, count: 4 }]).length, 2);
  const early = createPaginator(cfg({ type: "offset", limit: 10, totalPath: "total" }));
  drive(early, [{ body: { total: 25 }, count: 10 }, { body: { total: 25 }, count: 0 }]);
  assert.equal(early.failure ? early.failure() : undefined, "empty page at offset 10 before the declared total 25");
});

test("cursor: an empty page repeating its cursor ends the stream; a non-empty one is a loop", () => {
  const c = () => createPaginator(cfg({ type: "cursor", hasMorePath: "pagination.hasNextPage" }));
  const body = (cursor: unknown) => ({ pagination: { endCursor: cursor, hasNextPage: true } });
  const end = c();
  assert.equal(drive(end, [{ body: body("c-2"), count: 2 }, { body: body("c-3"), count: 2 }, { body: body("c-3"), count: 0 }, { body: body("c-4"), count: 1 }]).length, 3);
  assert.equal(end.failure ? end.failure() : "x", undefined);
  const loop = c();
  assert.equal(drive(loop, [{ body: body("c-2"), count: 2 }, { body: body("c-2"), count: 2 }, { body: body("c-3"), count: 1 }]).length, 2);
  assert.equal(loop.failure ? loop.failure() : undefined, 'cursor "c-2" repeated by a non-empty page: the API loops');
});

test("cursor: endCursor + hasNextPage; empty or null cursor ends; empty pages do not", () => {
  const c = () => createPaginator(cfg({ type: "cursor", hasMorePath: "pagination.hasNextPage", limitParam: "limit", limit: 2 }));
  const body = (cursor: unknown, more: boolean) => ({ pagination: { endCursor: cursor, hasNextPage: more } });
  assert.deepEqual(drive(c(), [{ body: body("a", true), count: 2 }, { body: body("b", true), count: 0 }, { body: body("c", false), count: 1 }]), [
    "/items?x=1&limit=2", "/items?x=1&limit=2&after=a", "/items?x=1&limit=2&after=b",
  ]);
  assert.equal(drive(c(), [{ body: body("", true), count: 2 }]).length, 1);
  assert.equal(drive(c(), [{ body: body(null, true), count: 2 }]).length, 1);
  const p = c();
  p.init(BASE);
  assert.equal(p.pageId(), "start");
});

test("next_url (relative and absolute) and Link header", () => {
  const n = createPaginator(cfg({ type: "next_url" }));
  assert.deepEqual(drive(n, [{ body: { next: "/items?cursor=2" }, count: 1 }, { body: { next: "http://api.test/items?cursor=3" }, count: 1 }, { body: { next: null }, count: 1 }]), [
    "/items?x=1", "/items?cursor=2", "/items?cursor=3",
  ]);
  const l = createPaginator(cfg({ type: "link_header" }));
  const link = (u: string) => ({ link: `<http://api.test/first>; rel="first", <${u}>; rel="next"` });
  assert.deepEqual(drive(l, [{ body: [], headers: link("/items?page=2"), count: 1 }, { body: [], headers: { link: '<http://api.test/first>; rel="first"' }, count: 1 }]), [
    "/items?x=1", "/items?page=2",
  ]);
  assert.equal(parseNextLink('<https://a/b?page=3&per_page=2>; rel="next last"'), "https://a/b?page=3&per_page=2");
  assert.equal(parseNextLink("<https://a/b>; rel=prev"), undefined);
  assert.equal(parseNextLink(undefined), undefined);
});

test("single_page asks once", () => {
  assert.deepEqual(drive(createPaginator(cfg({ type: "single_page" })), [{ body: {}, count: 3 }]), ["/items?x=1"]);
});
