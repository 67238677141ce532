import type { PageResponse } from "./paginator";
import { FollowUrlPaginator } from "./follow-url";

export interface LinkHeaderPaginatorConfig {
  type: "link_header";
}

/** RFC 8288 `Link: <url>; rel="next"`; no next link ends the series. */
export class LinkHeaderPaginator extends FollowUrlPaginator {
  constructor(_config: LinkHeaderPaginatorConfig) {
    super();
  }

  protected nextTarget(response: PageResponse): string | undefined {
    return parseNextLink(response.headers["link"]);
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
