import { withParam, type PageResponse, type Paginator } from "./paginator";

export interface HeaderCursorPaginatorConfig {
  type: "header_cursor";
  /** Response header holding the next cursor (any case). */
  header: string;
  cursorParam: string;
}

/**
 * The next cursor comes in a response header (`X-Next-Cursor: abc`) and is sent back as `?cursor=abc`.
 * A missing or empty header ends the series. A non-empty page that hands back the cursor it was asked
 * with is a loop: a failure naming the cursor (older cursors seen again are caught by the fetch loop).
 */
export class HeaderCursorPaginator implements Paginator {
  private cursor: string | undefined;
  private pending: string | undefined;
  private broken: string | undefined;

  constructor(private readonly config: HeaderCursorPaginatorConfig) {}

  init(url: URL): URL {
    const out = new URL(url.href);
    out.searchParams.delete(this.config.cursorParam);
    return out;
  }

  update(response: PageResponse): void {
    const value = response.headers[this.config.header.toLowerCase()];
    this.pending = value !== undefined && value.trim() !== "" ? value.trim() : undefined;
    if (this.pending !== undefined && this.pending === this.cursor) {
      if (response.recordCount > 0) this.broken = `header ${this.config.header} repeated cursor "${this.cursor}" on a non-empty page: the API loops`;
      this.pending = undefined;
    }
  }

  failure(): string | undefined {
    return this.broken;
  }

  hasNext(): boolean {
    return this.pending !== undefined;
  }

  next(previous: URL): URL {
    this.cursor = this.pending;
    return withParam(previous, this.config.cursorParam, this.cursor ?? "");
  }

  pageId(): string {
    return this.cursor ?? "start";
  }
}
