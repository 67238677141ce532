import type { AuthConfig } from "../../../model/source-config";
import type { Clock } from "../rate-limit";
import { getJsonWithRetry, type RetryPolicy } from "../retry";
import type { Authenticator, OutgoingRequest } from "./authenticator";

export type OAuth2AuthConfig = Extract<AuthConfig, { type: "oauth2" }>;

/** What the token requests need from the fetch context. */
export interface OAuth2Deps {
  /** Names the token store: requests of one source (and one auth config) share a token in the process. */
  storeKey: string;
  retry: RetryPolicy;
  clock: Clock;
  fetch?: typeof fetch;
  random?: () => number;
}

/**
 * The token of one source in this process, shared by all its concurrent requests. `pending` is the
 * one token request in flight: callers that need a token while it runs wait on it, so a burst of
 * expired requests causes one refresh, not one per request.
 */
interface TokenStore {
  accessToken?: string;
  /** Epoch ms after which the token is renewed before use (expiry minus the early margin). */
  renewAt?: number;
  /** The refresh token in use (rotated when the server sends a new one, RFC 6749 6). */
  refreshToken?: string;
  pending?: Promise<string | undefined>;
  /** Tokens obtained so far (tests and benches). */
  issued: number;
  /** Every access and refresh token seen, to mask them even after they were replaced. */
  seen: string[];
}

// On globalThis, like the rate gates: Beam deserializes copies of module state captured by DoFns.
const REGISTRY_KEY = Symbol.for("api2lake.rest.oauth2Tokens");

function stores(): Map<string, TokenStore> {
  const holder = globalThis as unknown as Record<symbol, Map<string, TokenStore> | undefined>;
  let map = holder[REGISTRY_KEY];
  if (!map) {
    map = new Map();
    holder[REGISTRY_KEY] = map;
  }
  return map;
}

/** Tokens obtained so far by the store of `storeKey` (0 when none). */
export function tokensIssued(storeKey: string): number {
  const store = stores().get(storeKey);
  return store ? store.issued : 0;
}

/** Forgets every cached token (tests). */
export function resetOAuth2Tokens(): void {
  stores().clear();
}

/** The store key of an OAuth2 config: source, token URL, client and scopes (no secret). */
export function oauth2StoreKey(source: string, config: OAuth2AuthConfig): string {
  return [source, config.tokenUrl, config.clientId, config.scopes.join(" ")].join("|");
}

/**
 * The form body of a token request: client credentials grant (RFC 6749 4.4.2) or, with a refresh
 * token, the refresh grant (6). Scopes are space-separated (3.3).
 */
export function tokenRequestBody(config: OAuth2AuthConfig, refreshToken: string | undefined): URLSearchParams {
  const form = new URLSearchParams();
  if (refreshToken !== undefined) {
    form.set("grant_type", "refresh_token");
    form.set("refresh_token", refreshToken);
  } else form.set("grant_type", "client_credentials");
  if (config.scopes.length) form.set("scope", config.scopes.join(" "));
  return form;
}

/** A successful token response (RFC 6749 5.1), or the reason it is not one. */
export type TokenResponse =
  | { ok: true; accessToken: string; expiresInMs?: number; refreshToken?: string }
  | { ok: false; reason: string };

/**
 * Reads a token endpoint's JSON: `access_token` required, `token_type` Bearer (RFC 6750), `expires_in` a
 * positive number of seconds when present (some servers send it as a string of digits).
 */
export function readTokenResponse(body: unknown): TokenResponse {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, reason: "token response is not a JSON object" };
  }
  const b = body as Record<string, unknown>;
  if (typeof b.access_token !== "string" || b.access_token === "") return { ok: false, reason: "token response has no access_token" };
  if (typeof b.token_type !== "string" || b.token_type.toLowerCase() !== "bearer") {
    return { ok: false, reason: `token_type ${JSON.stringify(b.token_type)} is not Bearer (RFC 6750)` };
  }
  const expires = typeof b.expires_in === "string" && /^\d+$/.test(b.expires_in) ? Number(b.expires_in) : b.expires_in;
  if (expires !== undefined && (typeof expires !== "number" || !Number.isFinite(expires) || expires <= 0)) {
    return { ok: false, reason: `expires_in ${JSON.stringify(b.expires_in)} is not a positive number of seconds` };
  }
  const out: TokenResponse = { ok: true, accessToken: b.access_token };
  if (typeof expires === "number") out.expiresInMs = expires * 1000;
  if (typeof b.refresh_token === "string" && b.refresh_token !== "") out.refreshToken = b.refresh_token;
  return out;
}

/**
 * When a token obtained at `now` must be renewed: `refreshBeforeSeconds` before `expires_in` runs out,
 * but never earlier than half its life (a 30 s token with the default 60 s margin lives 15 s, instead of
 * being renewed before every request). No `expires_in`: kept until a 401.
 */
export function renewAt(now: number, expiresInMs: number | undefined, refreshBeforeSeconds: number): number | undefined {
  if (expiresInMs === undefined) return undefined;
  return now + expiresInMs - Math.min(refreshBeforeSeconds * 1000, expiresInMs / 2);
}

/**
 * `Authorization: Bearer <access token>` from an OAuth2 token endpoint. The client authenticates with
 * HTTP Basic (RFC 6749 2.3.1). Token requests go through the same retry policy as pages (5xx, timeouts).
 */
export class OAuth2Authenticator implements Authenticator {
  private readonly store: TokenStore;

  constructor(private readonly config: OAuth2AuthConfig, private readonly deps: OAuth2Deps) {
    let store = stores().get(deps.storeKey);
    if (!store) {
      store = { issued: 0, refreshToken: config.refreshToken, seen: [] };
      stores().set(deps.storeKey, store);
    }
    this.store = store;
  }

  async prepare(): Promise<string | undefined> {
    const store = this.store;
    const fresh = store.accessToken !== undefined && (store.renewAt === undefined || this.deps.clock.now() < store.renewAt);
    if (fresh) return undefined;
    if (!store.pending) {
      store.accessToken = undefined;
      store.pending = this.requestToken().finally(() => {
        store.pending = undefined;
      });
    }
    return store.pending;
  }

  /** Obtains a token into the store; resolves to a failure reason or undefined. */
  private async requestToken(): Promise<string | undefined> {
    const pair = `${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`;
    const client = Buffer.from(pair).toString("base64");
    const outcome = await getJsonWithRetry({
      url: new URL(this.config.tokenUrl),
      method: "POST",
      body: tokenRequestBody(this.config, this.store.refreshToken).toString(),
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${client}` },
    }, this.deps.retry, { fetch: this.deps.fetch, clock: this.deps.clock, random: this.deps.random });
    const where = `OAuth2 token request to ${this.config.tokenUrl}`;
    if (!outcome.ok) return `${where} failed after ${outcome.attempts} attempt(s): ${outcome.error}`;
    const token = readTokenResponse(outcome.body);
    if (!token.ok) return `${where}: ${token.reason}`;
    this.store.seen.push(token.accessToken);
    if (token.refreshToken !== undefined) this.store.seen.push(token.refreshToken);
    this.store.accessToken = token.accessToken;
    this.store.renewAt = renewAt(this.deps.clock.now(), token.expiresInMs, this.config.refreshBeforeSeconds);
    if (token.refreshToken !== undefined) this.store.refreshToken = token.refreshToken;
    this.store.issued += 1;
    return undefined;
  }

  apply(request: OutgoingRequest): OutgoingRequest {
    if (this.store.accessToken === undefined) return request;
    return { url: request.url, headers: { ...request.headers, authorization: `Bearer ${this.store.accessToken}` } };
  }

  invalidate(sent: OutgoingRequest): boolean {
    if (sent.headers.authorization === `Bearer ${this.store.accessToken}`) {
      this.store.accessToken = undefined;
      this.store.renewAt = undefined;
    }
    return true;
  }

  liveSecrets(): string[] {
    return this.store.seen.slice();
  }
}
