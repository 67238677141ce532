import { getPath } from "../json-path";
import { withParam, type PageResponse, type Paginator } from "./paginator";

export interface PageNumberPaginatorConfig {
  type: "page_number";
  pageParam: string;
  startPage: number;
  sizeParam?: string;
  size?: number;
  totalPagesPath?: string;
  hasMorePath?: string;
}

/**
 * `?page=N`. Stops when the page reaches the declared total (`totalPagesPath`), when the
 * has-more flag (`hasMorePath`) is false, or - only when the body declares neither - on an
 * empty page. A declared total or flag wins over emptiness, so an empty page in the middle
 * of a series does not end it early.
 */
export class PageNumberPaginator implements Paginator {
  private page: number;
  private more = true;
  private total: number | undefined;

  constructor(private readonly config: PageNumberPaginatorConfig) {
    this.page = config.startPage;
  }

  init(url: URL): URL {
    let out = withParam(url, this.config.pageParam, String(this.page));
    if (this.config.sizeParam && this.config.size !== undefined) out = withParam(out, this.config.sizeParam, String(this.config.size));
    return out;
  }

  update(response: PageResponse): void {
    const total = this.config.totalPagesPath ? Number(getPath(response.body, this.config.totalPagesPath)) : NaN;
    const flag = this.config.hasMorePath ? getPath(response.body, this.config.hasMorePath) : undefined;
    if (Number.isFinite(total)) this.total = total;
    if (Number.isFinite(total)) this.more = this.page - this.config.startPage + 1 < total;
    else if (typeof flag === "boolean") this.more = flag;
    else this.more = response.recordCount > 0;
  }

  totalPages(): number | undefined {
    return this.total;
  }

  hasNext(): boolean {
    return this.more;
  }

  next(previous: URL): URL {
    this.page += 1;
    return withParam(previous, this.config.pageParam, String(this.page));
  }

  pageId(): string {
    return String(this.page);
  }
}
