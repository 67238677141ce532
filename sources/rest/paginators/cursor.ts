import { getPath } from "../json-path";
import { withParam, type PageResponse, type Paginator } from "./paginator";

export interface CursorPaginatorConfig {
  type: "cursor";
  cursorParam: string;
  cursorPath: string;
  hasMorePath?: string;
  limitParam?: string;
  limit?: number;
  cursorBodyPath?: string;
}

/**
 * Cursor in the body (`pagination.endCursor`), sent back as `?after=`. Ends when the
 * has-more flag is false, the cursor is missing, `null` or `""`, or an empty page repeats the
 * cursor it was asked with (the end of the stream, as GraphQL-style APIs signal it). With `cursorBodyPath`
 * the cursor goes into the request body (GraphQL `variables.after`) instead of the query. Other empty
 * pages do not end a series (cursor APIs return them mid-stream). A non-empty page repeating its
 * cursor is a loop: a failure naming the cursor. Older cursors seen again are caught by the fetch
 * loop's guard.
 */
export class CursorPaginator implements Paginator {
  private cursor: string | undefined;
  private pending: string | undefined;
  private more = true;
  private broken: string | undefined;

  constructor(private readonly config: CursorPaginatorConfig) {}

  init(url: URL): URL {
    const out = new URL(url.href);
    out.searchParams.delete(this.config.cursorParam);
    if (this.config.limitParam && this.config.limit !== undefined) out.searchParams.set(this.config.limitParam, String(this.config.limit));
    return out;
  }

  update(response: PageResponse): void {
    const next = getPath(response.body, this.config.cursorPath);
    const flag = this.config.hasMorePath ? getPath(response.body, this.config.hasMorePath) : undefined;
    const usable = (typeof next === "string" && next !== "") || typeof next === "number";
    this.more = usable && flag !== false;
    this.pending = usable ? String(next) : undefined;
    if (this.more && this.cursor !== undefined && this.pending === this.cursor) {
      this.more = false;
      if (response.recordCount > 0) this.broken = `cursor "${this.cursor}" repeated by a non-empty page: the API loops`;
    }
  }

  failure(): string | undefined {
    return this.broken;
  }

  hasNext(): boolean {
    return this.more;
  }

  next(previous: URL): URL {
    this.cursor = this.pending;
    if (this.config.cursorBodyPath !== undefined) return new URL(previous.href);
    return withParam(previous, this.config.cursorParam, this.cursor ?? "");
  }

  bodyValues(): Record<string, unknown> {
    if (this.config.cursorBodyPath === undefined || this.cursor === undefined) return {};
    return { [this.config.cursorBodyPath]: this.cursor };
  }

  pageId(): string {
    return this.cursor ?? "start";
  }
}
