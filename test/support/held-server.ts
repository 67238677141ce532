import type * as http from "http";
import { startServer, json, query, type LocalServer } from "../rest/helpers";

/**
 * A local API whose `/slow/items` pages are held until the test releases them: the test waits on
 * `requested(n)` (the server saw its n-th held request), acts (a second run, a query, a signal),
 * then calls `releaseAll()`. Synchronization by events, no sleeps. `/fast/items` answers at once.
 * Both serve `pages` pages of `perPage` records with ids `page * 100 + i` and stop on an empty page.
 */
export interface HeldServer extends LocalServer {
  /** Resolves once the server has seen `n` requests for `/slow/` pages in all (held or not). */
  requested(n: number): Promise<void>;
  releaseAll(): void;
  /** From now on, answer held requests at once. */
  stopHolding(): void;
  /** From now on, hold `/slow/` requests again (only those for pages >= `fromPage`). */
  holdAgain(fromPage?: number): void;
}

export async function startHeldServer(pages = 3, perPage = 5): Promise<HeldServer> {
  const held: { res: http.ServerResponse; page: number }[] = [];
  let holding = true;
  let holdFrom = 1;
  let seen = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const answer = (res: http.ServerResponse, page: number) => {
    const data = page <= pages ? Array.from({ length: perPage }, (_, i) => ({ id: page * 100 + i, name: `n${page}-${i}` })) : [];
    json(res, { data: data });
  };
  const server = await startServer((req, res) => {
    const page = Number(query(req).get("page") ?? "1");
    if (!(req.url ?? "").startsWith("/slow/")) return answer(res, page);
    seen += 1;
    for (const w of waiters.splice(0)) if (seen >= w.n) w.resolve(); else waiters.push(w);
    if (holding && page >= holdFrom) held.push({ res: res, page: page });
    else answer(res, page);
  });
  return {
    ...server,
    requested: (n: number) => new Promise<void>((resolve) => (seen >= n ? resolve() : waiters.push({ n: n, resolve: resolve }))),
    releaseAll: () => {
      for (const h of held.splice(0)) answer(h.res, h.page);
    },
    stopHolding: () => {
      holding = false;
      for (const h of held.splice(0)) answer(h.res, h.page);
    },
    holdAgain: (fromPage = 1) => {
      holding = true;
      holdFrom = fromPage;
    },
  };
}

/** A source config for the held server (page-number pagination, an empty page stops). */
export function heldSourceYaml(url: string, name: string, pathText = "/slow/items"): string {
  return `
name: ${name}
baseUrl: ${url}
paginator: { type: page_number, pageParam: page }
# A held page must not time out and be retried while the test acts (a busy machine can take minutes).
retry: { maxAttempts: 1, timeoutMs: 600000 }
entities:
  items:
    path: ${pathText}
    primaryKey: [id]
    fields: { id: { type: integer, required: true }, name: { type: string } }
`;
}
