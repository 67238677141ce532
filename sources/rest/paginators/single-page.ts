import type { PageResponse, Paginator } from "./paginator";

export interface SinglePagePaginatorConfig {
  type: "single_page";
}

/** One request, no pagination. */
export class SinglePagePaginator implements Paginator {
  init(url: URL): URL {
    return new URL(url.href);
  }
  update(_response: PageResponse): void {}
  hasNext(): boolean {
    return false;
  }
  next(previous: URL): URL {
    return new URL(previous.href);
  }
  pageId(): string {
    return "1";
  }
}
