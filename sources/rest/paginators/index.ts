import type { PaginatorConfig, PaginatorType } from "../../../model/source-config";
import { CursorPaginator } from "./cursor";
import { HeaderCursorPaginator } from "./header-cursor";
import { LinkHeaderPaginator } from "./link-header";
import { NextUrlPaginator } from "./next-url";
import { OffsetPaginator } from "./offset";
import { PageNumberPaginator } from "./page-number";
import type { Paginator } from "./paginator";
import { SinglePagePaginator } from "./single-page";

export type { Paginator, PageResponse } from "./paginator";

/**
 * The one paginator registry. Its keys are checked against the schema's `PaginatorType`
 * union: adding a type to the schema without a line here (or the reverse) fails to compile.
 */
export const PAGINATORS: { [K in PaginatorType]: (config: Extract<PaginatorConfig, { type: K }>) => Paginator } = {
  single_page: () => new SinglePagePaginator(),
  page_number: (config) => new PageNumberPaginator(config),
  offset: (config) => new OffsetPaginator(config),
  cursor: (config) => new CursorPaginator(config),
  header_cursor: (config) => new HeaderCursorPaginator(config),
  next_url: (config) => new NextUrlPaginator(config),
  link_header: (config) => new LinkHeaderPaginator(config),
};

/** A fresh paginator for one request series. */
export function createPaginator(config: PaginatorConfig): Paginator {
  const factory = PAGINATORS[config.type] as (c: PaginatorConfig) => Paginator;
  return factory(config);
}
