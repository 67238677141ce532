import type { PageResponse, Paginator } from "./paginator";

/**
 * Paginators that follow a URL the response names (in the body or a header): the next request is
 * that URL, resolved against the response's; none ends the series. Subclasses say where it is.
 */
export abstract class FollowUrlPaginator implements Paginator {
  private nextUrl: URL | undefined;
  private current: string | undefined;

  /** The next page's URL (absolute or relative) as the response gives it, or undefined at the end. */
  protected abstract nextTarget(response: PageResponse): string | undefined;

  init(url: URL): URL {
    return new URL(url.href);
  }

  update(response: PageResponse): void {
    const next = this.nextTarget(response);
    this.nextUrl = next ? new URL(next, response.url) : undefined;
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
