import { getPath } from "../json-path";
import { withParam, type PageResponse, type Paginator } from "./paginator";

export interface OffsetPaginatorConfig {
  type: "offset";
  offsetParam: string;
  limitParam: string;
  limit: number;
  totalPath?: string;
}

/**
 * `?offset=N&limit=L`. Stops when offset + records reaches the declared total (`totalPath`),
 * or - without a declared total - on a short or empty page.
 */
export class OffsetPaginator implements Paginator {
  private offset = 0;
  private more = true;

  constructor(private readonly config: OffsetPaginatorConfig) {}

  init(url: URL): URL {
    return withParam(withParam(url, this.config.offsetParam, "0"), this.config.limitParam, String(this.config.limit));
  }

  update(response: PageResponse): void {
    const total = this.config.totalPath ? Number(getPath(response.body, this.config.totalPath)) : NaN;
    if (Number.isFinite(total)) this.more = this.offset + this.config.limit < total;
    else this.more = response.recordCount >= this.config.limit;
  }

  hasNext(): boolean {
    return this.more;
  }

  next(previous: URL): URL {
    this.offset += this.config.limit;
    return withParam(previous, this.config.offsetParam, String(this.offset));
  }

  pageId(): string {
    return String(this.offset);
  }
}
