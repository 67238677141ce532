import type { PageResponse, Paginator } from "./paginator";

export interface LinkHeaderPaginatorConfig {
  type: "link_header";
}

/** RFC 8288 `Link: <url>; rel="next"`; no next link ends the series. */
export class LinkHeaderPaginator implements Paginator {
  private nextUrl: URL | undefined;
  private current: string | undefined;

  constructor(_config: LinkHeaderPaginatorConfig) {}

  init(url: URL): URL {
    return new URL(url.href);
  }

  update(response: PageResponse): void {
    const link = parseNextLink(response.headers["link"]);
    this.nextUrl = link ? new URL(link, response.url) : undefined;
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

/** The `rel="next"` target of a Link header value, if any. */
export function parseNextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2]);
    if (rels && rels[1].toLowerCase().split(/\s+/).includes("next")) return match[1];
  }
  return undefined;
}
