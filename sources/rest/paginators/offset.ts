import { getPath } from "../json-path";
import { withParam, type PageResponse, type Paginator } from "./paginator";

export interface OffsetPaginatorConfig {
  type: "offset";
  offsetParam: string;
  limitParam: string;
  limit: number;
  totalPath?: string;
  hasMorePath?: string;
}

/**
 * `?offset=N&limit=L`. The offset advances by the records the server actually returned, not by
 * `limit` (servers cap page sizes: ask 100, get 50). Stop rule, first that applies: the declared
 * total (`totalPath`) is reached; the has-more flag (`hasMorePath`) is false; an empty page. A short
 * page alone never ends the series. An empty page while the total or the flag still promises more
 * is a failure (the records in between would be lost in silence).
 */
export class OffsetPaginator implements Paginator {
  private offset = 0;
  private returned = 0;
  private more = true;
  private broken: string | undefined;
  private total: number | undefined;

  constructor(private readonly config: OffsetPaginatorConfig) {}

  init(url: URL): URL {
    return withParam(withParam(url, this.config.offsetParam, "0"), this.config.limitParam, String(this.config.limit));
  }

  update(response: PageResponse): void {
    this.returned = response.recordCount;
    const total = this.config.totalPath ? Number(getPath(response.body, this.config.totalPath)) : NaN;
    const flag = this.config.hasMorePath ? getPath(response.body, this.config.hasMorePath) : undefined;
    if (Number.isFinite(total)) this.total = total;
    const promised = Number.isFinite(total) ? this.offset + this.returned < total : typeof flag === "boolean" ? flag : true;
    if (this.returned === 0) {
      this.more = false;
      if (Number.isFinite(total) && this.offset < total) this.broken = `empty page at offset ${this.offset} before the declared total ${total}`;
      else if (flag === true) this.broken = `empty page at offset ${this.offset} while ${this.config.hasMorePath} is true`;
    } else this.more = promised;
  }

  /** Pages of `limit` records that the declared total takes (at least 1: an empty series has one page). */
  totalPages(): number | undefined {
    return this.total === undefined ? undefined : Math.max(1, Math.ceil(this.total / this.config.limit));
  }

  failure(): string | undefined {
    return this.broken;
  }

  hasNext(): boolean {
    return this.more;
  }

  next(previous: URL): URL {
    this.offset += this.returned;
    return withParam(previous, this.config.offsetParam, String(this.offset));
  }

  pageId(): string {
    return String(this.offset);
  }
}
