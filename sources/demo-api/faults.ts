/**
 * Injectable faults. Each rule matches requests by path prefix (and optionally by the page,
 * offset, after or cursor query value), skips `afterRequests` matches, then applies to the next
 * `times` matches (unlimited when absent).
 */

export type FaultKind = "latency" | "status" | "rate_limit" | "truncate" | "reset" | "hang" | "empty_page" | "repeat_cursor";

export const FAULT_KINDS: readonly FaultKind[] = ["latency", "status", "rate_limit", "truncate", "reset", "hang", "empty_page", "repeat_cursor"];

export interface FaultRule {
  /** Prefix of the request pathname, e.g. `/commerce/customers`. */
  path: string;
  kind: FaultKind;
  /** latency: delay in ms. */
  ms?: number;
  /** status: the status to answer (default 503). */
  status?: number;
  /** rate_limit (and status): `Retry-After` sent verbatim, e.g. "2", "0.40235" or an HTTP date. rate_limit defaults to "1". */
  retryAfter?: string;
  /** How many matching requests the rule applies to; unlimited when absent. */
  times?: number;
  /** Matching requests to let through before the rule applies. */
  afterRequests?: number;
  /** Only requests whose page/offset/after/cursor query value (first present, else "") equals this. */
  page?: string;
}

/** What the faults decided for one request. */
export interface FaultDecision {
  latencyMs: number;
  /** The rule that replaces the normal answer, if any. */
  terminal?: FaultRule;
  truncate: boolean;
  emptyPage: boolean;
  repeatCursor: boolean;
}

const TERMINAL: readonly FaultKind[] = ["status", "rate_limit", "reset", "hang"];

/** The query value a rule's `page` is compared with. */
export function pageValueOf(query: URLSearchParams): string {
  for (const name of ["page", "offset", "after", "cursor"]) {
    const v = query.get(name);
    if (v !== null) return v;
  }
  return "";
}

/** Throws a readable error when `rules` is not a valid rule list. */
export function validateFaultRules(rules: unknown): FaultRule[] {
  if (!Array.isArray(rules)) throw new TypeError("faults must be a JSON array of rules");
  return rules.map((rule: unknown, i: number) => {
    if (typeof rule !== "object" || rule === null) throw new TypeError(`faults[${i}] must be an object`);
    const r = rule as Record<string, unknown>;
    if (typeof r.path !== "string" || !r.path.startsWith("/")) throw new TypeError(`faults[${i}].path must be a string starting with "/"`);
    if (typeof r.kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(r.kind))
      throw new TypeError(`faults[${i}].kind must be one of ${FAULT_KINDS.join(", ")}, got ${JSON.stringify(r.kind)}`);
    for (const n of ["ms", "status", "times", "afterRequests"])
      if (r[n] !== undefined && (typeof r[n] !== "number" || !Number.isInteger(r[n]) || (r[n] as number) < 0))
        throw new TypeError(`faults[${i}].${n} must be a non-negative integer`);
    for (const n of ["retryAfter", "page"])
      if (r[n] !== undefined && typeof r[n] !== "string") throw new TypeError(`faults[${i}].${n} must be a string`);
    return Object.freeze(Object.assign({}, r)) as unknown as FaultRule;
  });
}

/** The active rules with their per-rule counters. */
export class FaultTable {
  private rules: { rule: FaultRule; seen: number; applied: number }[] = [];

  set(rules: readonly FaultRule[]): void {
    this.rules = validateFaultRules(rules.slice()).map((rule) => ({ rule: rule, seen: 0, applied: 0 }));
  }

  list(): FaultRule[] {
    return this.rules.map((r) => r.rule);
  }

  /** Counts this request against every matching rule and says which faults apply. */
  decide(pathname: string, query: URLSearchParams): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, truncate: false, emptyPage: false, repeatCursor: false };
    const page = pageValueOf(query);
    for (const entry of this.rules) {
      const rule = entry.rule;
      if (!pathname.startsWith(rule.path)) continue;
      if (rule.page !== undefined && rule.page !== page) continue;
      entry.seen += 1;
      if (entry.seen <= (rule.afterRequests ?? 0)) continue;
      if (rule.times !== undefined && entry.applied >= rule.times) continue;
      if (TERMINAL.includes(rule.kind)) {
        if (decision.terminal !== undefined) continue; // the first terminal rule wins; later ones keep their budget
        decision.terminal = rule;
      } else if (rule.kind === "latency") decision.latencyMs += rule.ms ?? 1000;
      else if (rule.kind === "truncate") decision.truncate = true;
      else if (rule.kind === "empty_page") decision.emptyPage = true;
      else if (rule.kind === "repeat_cursor") decision.repeatCursor = true;
      entry.applied += 1;
    }
    return decision;
  }
}
