import { getPath } from "../json-path";
import type { PageResponse, Paginator } from "./paginator";

export interface NextUrlPaginatorConfig {
  type: "next_url";
  nextUrlPath: string;
}

/** The body carries the next page's URL (absolute or relative); missing, `null` or `""` ends the series. */
export class NextUrlPaginator implements Paginator {
  private nextUrl: URL | undefined;
  private current: string | undefined;

  constructor(private readonly config: NextUrlPaginatorConfig) {}

  init(url: URL): URL {
    return new URL(url.href);
  }

  update(response: PageResponse): void {
    const next = getPath(response.body, this.config.nextUrlPath);
    this.nextUrl = typeof next === "string" && next !== "" ? new URL(next, response.url) : undefined;
  }

  hasNext(): boolean {
    return this.nextUrl !== undefined;
  }

  next(_previous: URL): URL {
    const url = new URL((this.nextUrl as URL).href);
    this.current = url.pathname + url.search;
    return url;
  }

  pageId(): string {
    return this.current ?? "start";
  }
}
