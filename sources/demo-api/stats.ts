/** Request accounting for `GET /_stats` and `DemoApi.stats()`. Control routes (`/_...`) are not counted. */

export interface DemoArrival {
  /** Pathname, no query string. */
  path: string;
  /** Arrival time, epoch milliseconds with sub-millisecond precision. */
  at: number;
  /** The answered status, or "reset" / "hang" / "truncated" / "pending" (not answered yet). */
  status: number | string;
}

export interface DemoStats {
  total: number;
  /** Requests per pathname. */
  byPath: Record<string, number>;
  /** Answers per status ("200", "401", "429", "reset", "hang", "truncated", ...). */
  byStatus: Record<string, number>;
  /** The most recent arrivals (at most MAX_ARRIVALS), oldest first. */
  arrivals: DemoArrival[];
}

export const MAX_ARRIVALS = 100_000;

export class StatsRecorder {
  private total = 0;
  private byPath = new Map<string, number>();
  private byStatus = new Map<string, number>();
  private arrivals: DemoArrival[] = [];

  /** Records an arrival; returns the entry so its status can be filled in later. */
  arrive(path: string): DemoArrival {
    const entry: DemoArrival = { path: path, at: Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000, status: "pending" };
    this.total += 1;
    this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
    this.arrivals.push(entry);
    if (this.arrivals.length > MAX_ARRIVALS * 1.1) this.arrivals = this.arrivals.slice(-MAX_ARRIVALS);
    return entry;
  }

  answer(entry: DemoArrival, status: number | string): void {
    entry.status = status;
    const key = String(status);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.total = 0;
    this.byPath.clear();
    this.byStatus.clear();
    this.arrivals = [];
  }

  snapshot(): DemoStats {
    return {
      total: this.total,
      byPath: Object.fromEntries(this.byPath),
      byStatus: Object.fromEntries(this.byStatus),
      arrivals: this.arrivals.slice(-MAX_ARRIVALS).map((a) => Object.assign({}, a)),
    };
  }
}
