import { getPath } from "../json-path";
import type { PageResponse } from "./paginator";
import { FollowUrlPaginator } from "./follow-url";

export interface NextUrlPaginatorConfig {
  type: "next_url";
  nextUrlPath: string;
}

/** The body carries the next page's URL (absolute or relative); missing, `null` or `""` ends the series. */
export class NextUrlPaginator extends FollowUrlPaginator {
  constructor(private readonly config: NextUrlPaginatorConfig) {
    super();
  }

  protected nextTarget(response: PageResponse): string | undefined {
    const next = getPath(response.body, this.config.nextUrlPath);
    return typeof next === "string" && next !== "" ? next : undefined;
  }
}
