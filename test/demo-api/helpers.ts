/** Shared helpers for the demo-api tests: real HTTP against a server on a free port. */
import { startDemoApi, type DemoApi, type DemoApiOptions } from "../../sources/demo-api/server";

export const KEY = { "X-API-Key": "demo-key" };
export const BEARER = { authorization: "Bearer demo-token" };

/** Starts a server, runs `body`, always closes it. */
export async function withApi<T>(options: DemoApiOptions, body: (api: DemoApi) => Promise<T>): Promise<T> {
  const api = await startDemoApi(Object.assign({ port: 0 }, options));
  try {
    return await body(api);
  } finally {
    await api.close();
  }
}

export async function getJson(url: string, headers: Record<string, string> = KEY): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers: headers });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text), headers: res.headers };
}

/** Walks a page-number route until `stop(body)` says so; returns every record. */
export async function walkPages(base: string, path: string, perPage: number, stop: (body: any, page: number) => boolean, maxPages = 10_000): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const r = await getJson(`${base}${path}?page=${page}&per_page=${perPage}`);
    if (r.status !== 200) throw new Error(`${path} page ${page}: status ${r.status}`);
    out.push(...r.body.data);
    if (stop(r.body, page)) return out;
  }
  throw new Error(`${path}: more than ${maxPages} pages`);
}

/** Walks a Samsara-style cursor route (`pagination.endCursor` / `hasNextPage`). */
export async function walkCursor(url: string, headers: Record<string, string> = BEARER, maxPages = 10_000): Promise<{ records: any[]; pages: number }> {
  const records: any[] = [];
  let after = "";
  for (let pages = 1; pages <= maxPages; pages++) {
    const sep = url.includes("?") ? "&" : "?";
    const r = await getJson(after === "" ? url : `${url}${sep}after=${encodeURIComponent(after)}`, headers);
    if (r.status !== 200) throw new Error(`${url}: status ${r.status}`);
    records.push(...r.body.data);
    if (!r.body.pagination.hasNextPage) {
      if (r.body.pagination.endCursor !== "") throw new Error("last page must have endCursor \"\"");
      return { records: records, pages: pages };
    }
    after = r.body.pagination.endCursor;
  }
  throw new Error(`${url}: more than ${maxPages} pages`);
}

/** The URL of rel="next" in an RFC 5988 Link header, or undefined. */
export function nextLink(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part.trim());
    if (m !== null && m[2].split(/\s+/).includes("next")) return m[1];
  }
  return undefined;
}
