/**
 * The built-in sample API (`api2lake demo-api`): a plain Node `http` server, deterministic from a
 * seed, serving the five presets with realistic mess, several pagination styles, auth and
 * injectable faults.
 *
 * @example
 *   const api = await startDemoApi({ seed: 7, sizes: { customers: 1_000_000 } });
 *   const res = await fetch(`${api.url}/commerce/customers?page=2`, { headers: { "X-API-Key": "demo-key" } });
 *   await api.close();
 */
import * as http from "http";
import type * as net from "net";
import { isAuthorized } from "./auth";
import { FaultTable, validateFaultRules, type FaultRule } from "./faults";
import { TokenIssuer, type DemoOAuth2Options } from "./oauth";
import { matchRoute, ROUTES } from "./routes/index";
import { HttpError, type RouteResult } from "./routes/route";
import { resolveSizes, type DemoSizes } from "./sizes";
import { StatsRecorder, type DemoArrival, type DemoStats } from "./stats";
import { FleetCatalog } from "./datasets/fleet-catalog";

export type { DemoSizes } from "./sizes";
export { DEFAULT_SIZES } from "./sizes";
export type { FaultRule, FaultKind } from "./faults";
export type { DemoStats, DemoArrival } from "./stats";
export type { DemoOAuth2Options } from "./oauth";
export { DEFAULT_OAUTH2_CLIENT_ID, DEFAULT_OAUTH2_CLIENT_SECRET, DEFAULT_OAUTH2_REFRESH_TOKEN } from "./oauth";

export interface DemoApiOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 42. */
  seed?: number;
  sizes?: Partial<DemoSizes>;
  /** Default "demo-key" (`X-API-Key` header or `api_key` query parameter). */
  apiKey?: string;
  /** Default "demo-token" (`Authorization: Bearer ...`). */
  bearerToken?: string;
  faults?: FaultRule[];
  /** The OAuth2 token endpoint `POST /oauth/token`; its tokens are accepted as bearer tokens. */
  oauth2?: DemoOAuth2Options;
}

export interface DemoApi {
  /** `http://<host>:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Ends hanging and keep-alive connections, then stops listening. */
  close(): Promise<void>;
  setFaults(rules: FaultRule[]): void;
  stats(): DemoStats;
  /** Forgets the request counts and arrivals. */
  resetStats(): void;
  /** OAuth2 tokens issued by `POST /oauth/token`, in total and per grant type. */
  tokensIssued(): { total: number; byGrant: Record<string, number> };
  /** The vehicle catalog behind `/fleet/vehicles` and `/fleet/vehicles/{id}/stats`: tests add vehicles and stats between runs. */
  readonly fleetCatalog: FleetCatalog;
  readonly seed: number;
  readonly sizes: DemoSizes;
}

export const DEFAULT_SEED = 42;
export const DEFAULT_API_KEY = "demo-key";
export const DEFAULT_BEARER_TOKEN = "demo-token";

const MAX_CONTROL_BODY = 1_000_000;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_CONTROL_BODY) reject(new HttpError(413, "body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** True when the request carries `Authorization: Bearer <t>` with a live token from the OAuth2 endpoint (counts a use). */
function hasIssuedToken(req: http.IncomingMessage, issuer: TokenIssuer): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec((req.headers.authorization ?? "").trim());
  return m !== null && issuer.use(m[1]);
}

/**
 * `POST /_fleet/vehicles` `{id, name, updated_at}` adds or replaces a vehicle; `POST /_fleet/vehicles/<id>/stats`
 * `{time, engine_hours, updated_at}` adds a stat (400 for a malformed body or an unknown vehicle).
 */
function putCatalogEntry(catalog: FleetCatalog, pathname: string, text: string): void {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new HttpError(400, "body must be a JSON object");
  }
  const isTime = (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v));
  if (pathname === "/_fleet/vehicles") {
    if (typeof body.id !== "string" || typeof body.name !== "string" || !isTime(body.updated_at)) {
      throw new HttpError(400, "a vehicle needs id, name (strings) and updated_at (ISO time)");
    }
    return catalog.putVehicle({ id: body.id, name: body.name, updated_at: body.updated_at as string });
  }
  const m = /^\/_fleet\/vehicles\/([^/]+)\/stats$/.exec(pathname);
  if (m === null) throw new HttpError(404, "not found");
  if (!isTime(body.time) || typeof body.engine_hours !== "number" || !isTime(body.updated_at)) {
    throw new HttpError(400, "a stat needs time, updated_at (ISO times) and engine_hours (number)");
  }
  try {
    const stat = { time: body.time as string, engine_hours: body.engine_hours, updated_at: body.updated_at as string };
    catalog.addStat(decodeURIComponent(m[1]), stat);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
}

/** Starts the demo API and resolves once it listens. */
export function startDemoApi(options: DemoApiOptions = {}): Promise<DemoApi> {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isFinite(seed)) throw new RangeError("demo-api: seed must be a finite number");
  const sizes = resolveSizes(options.sizes);
  const creds = { apiKey: options.apiKey ?? DEFAULT_API_KEY, bearerToken: options.bearerToken ?? DEFAULT_BEARER_TOKEN };
  const host = options.host ?? "127.0.0.1";
  const faults = new FaultTable();
  faults.set(options.faults ?? []);
  const stats = new StatsRecorder();
  const issuer = new TokenIssuer(options.oauth2);
  const catalog = new FleetCatalog(seed);
  const sockets = new Set<net.Socket>();
  const held = new Set<http.ServerResponse>(); // hanging or delayed responses
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  let port = 0;

  const sendJson = (res: http.ServerResponse, arrival: DemoArrival | undefined, status: number, body: unknown, headers?: Record<string, string>, truncate?: boolean): void => {
    const text = Buffer.from(JSON.stringify(body), "utf8");
    const head: Record<string, string | number> = Object.assign({ "content-type": "application/json; charset=utf-8", "content-length": text.length }, headers ?? {});
    if (truncate) {
      if (arrival !== undefined) stats.answer(arrival, "truncated");
      head["connection"] = "close";
      res.writeHead(status, head);
      res.write(text.subarray(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
      return;
    }
    if (arrival !== undefined) stats.answer(arrival, status);
    res.writeHead(status, head);
    res.end(text);
  };

  const delay = (res: http.ServerResponse, ms: number): Promise<void> =>
    new Promise((resolve) => {
      held.add(res);
      const t = setTimeout(() => {
        timers.delete(t);
        held.delete(res);
        resolve();
      }, ms);
      timers.add(t);
    });

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const key = `${req.method} ${url.pathname}`;
    if (key === "GET /_stats") return sendJson(res, undefined, 200, stats.snapshot());
    if (key === "DELETE /_stats") {
      stats.reset();
      return sendJson(res, undefined, 200, { ok: true });
    }
    if (key === "GET /_faults") return sendJson(res, undefined, 200, faults.list());
    if (key === "DELETE /_faults") {
      faults.set([]);
      return sendJson(res, undefined, 200, { ok: true, rules: 0 });
    }
    if (key === "POST /_faults") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readBody(req));
      } catch (e) {
        throw e instanceof HttpError ? e : new HttpError(400, "body must be a JSON array of fault rules");
      }
      const rules = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown } | null)?.rules;
      try {
        faults.set(validateFaultRules(rules));
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      return sendJson(res, undefined, 200, { ok: true, rules: faults.list().length });
    }
    if (req.method === "POST" && url.pathname.startsWith("/_fleet/vehicles")) {
      putCatalogEntry(catalog, url.pathname, await readBody(req));
      return sendJson(res, undefined, 200, { ok: true });
    }
    throw new HttpError(404, "not found");
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const control = url.pathname.startsWith("/_");
    if (url.pathname === "/health" || url.pathname === "/") {
      return sendJson(res, undefined, 200, { ok: true, seed: seed, sizes: sizes, routes: ROUTES.map((r) => r.pattern.source) });
    }
    const arrival = control ? undefined : stats.arrive(url.pathname);
    try {
      if (url.pathname === "/oauth/token") {
        if (req.method !== "POST") throw new HttpError(405, "the token endpoint takes POST");
        const answer = issuer.issue(req.headers.authorization, await readBody(req));
        return sendJson(res, arrival, answer.status, answer.body, { "cache-control": "no-store" });
      }
      if (!isAuthorized(req, url, creds) && !hasIssuedToken(req, issuer)) {
        return sendJson(res, arrival, 401, { error: "unauthorized" }, { "www-authenticate": 'Bearer realm="demo-api"' });
      }
      if (control) return await handleControl(req, res, url);
      const decision = faults.decide(url.pathname, url.searchParams);
      if (decision.latencyMs > 0) await delay(res, decision.latencyMs);
      if (closing) return;
      const fault = decision.terminal;
      if (fault !== undefined) {
        if (fault.kind === "reset") {
          if (arrival !== undefined) stats.answer(arrival, "reset");
          req.socket.destroy();
          return;
        }
        if (fault.kind === "hang") {
          if (arrival !== undefined) stats.answer(arrival, "hang");
          held.add(res);
          return;
        }
        if (fault.kind === "rate_limit") {
          return sendJson(res, arrival, fault.status ?? 429, { error: "rate limit exceeded" }, { "retry-after": fault.retryAfter ?? "1" });
        }
        const status = fault.status ?? 503;
        return sendJson(res, arrival, status, { error: "injected fault", status: status }, fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : undefined);
      }
      const match = matchRoute(url.pathname);
      if (match === undefined) throw new HttpError(404, `no route for ${url.pathname}`);
      if (req.method !== (match.route.method ?? "GET")) throw new HttpError(405, `method ${req.method} not allowed`);
      let body: unknown;
      if (req.method === "POST") {
        try {
          body = JSON.parse(await readBody(req));
        } catch (e) {
          throw e instanceof HttpError ? e : new HttpError(400, "body must be JSON");
        }
      }
      const result: RouteResult = match.route.handler({
        query: url.searchParams,
        params: match.params,
        baseUrl: `http://${req.headers.host ?? `${host}:${port}`}`,
        seed: seed,
        sizes: sizes,
        emptyPage: decision.emptyPage,
        repeatCursor: decision.repeatCursor,
        body: body,
        catalog: catalog,
      });
      sendJson(res, arrival, result.status, result.body, result.headers, decision.truncate);
    } catch (e) {
      if (res.headersSent || res.destroyed) return;
      if (e instanceof HttpError) return sendJson(res, arrival, e.status, { error: e.message });
      if (e instanceof URIError) return sendJson(res, arrival, 400, { error: "malformed URL" });
      sendJson(res, arrival, 500, { error: "internal error" });
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_err: Error, socket: net.Socket) => socket.destroy());

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      const address = server.address() as net.AddressInfo;
      port = address.port;
      const urlHost = host.includes(":") ? `[${host}]` : host;
      let closed: Promise<void> | undefined;
      resolve({
        url: `http://${urlHost}:${port}`,
        port: port,
        seed: seed,
        sizes: sizes,
        close: () => {
          if (closed !== undefined) return closed;
          closing = true;
          closed = new Promise<void>((done) => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.close(() => done());
            for (const res of held) res.socket?.destroy();
            held.clear();
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          });
          return closed;
        },
        setFaults: (rules: FaultRule[]) => faults.set(rules),
        stats: () => stats.snapshot(),
        resetStats: () => stats.reset(),
        tokensIssued: () => issuer.count(),
        fleetCatalog: catalog,
      });
    });
  });
}
