/**
 * The demo API's OAuth2 token endpoint (`POST /oauth/token`, RFC 6749): client credentials (4.4) and
 * refresh-token (6) grants, client authentication by HTTP Basic or form fields (2.3.1). Tokens are
 * short-lived on purpose: they expire after `expiresInSeconds` of the server clock or after
 * `maxUsesPerToken` API requests, so clients' renewal paths can be exercised.
 */
import * as crypto from "crypto";

export interface DemoOAuth2Options {
  /** Default "demo-client". */
  clientId?: string;
  /** Default "demo-secret". */
  clientSecret?: string;
  /** The refresh token accepted by the refresh grant; default "demo-refresh". */
  refreshToken?: string;
  /** `expires_in` of issued tokens; default 3600. */
  expiresInSeconds?: number;
  /** An access token answers 401 after this many API requests; default unlimited. */
  maxUsesPerToken?: number;
  /** Server clock (epoch ms); default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_OAUTH2_CLIENT_ID = "demo-client";
export const DEFAULT_OAUTH2_CLIENT_SECRET = "demo-secret";
export const DEFAULT_OAUTH2_REFRESH_TOKEN = "demo-refresh";

/** A token endpoint answer: status and JSON body (errors as RFC 6749 5.2). */
export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface IssuedToken {
  expiresAt: number;
  uses: number;
  scope: string;
}

export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  private issued = 0;
  private readonly grants: Record<string, number> = {};
  private readonly options: Required<Omit<DemoOAuth2Options, "maxUsesPerToken">> & { maxUsesPerToken?: number };

  constructor(options: DemoOAuth2Options = {}) {
    this.options = {
      clientId: options.clientId ?? DEFAULT_OAUTH2_CLIENT_ID,
      clientSecret: options.clientSecret ?? DEFAULT_OAUTH2_CLIENT_SECRET,
      refreshToken: options.refreshToken ?? DEFAULT_OAUTH2_REFRESH_TOKEN,
      expiresInSeconds: options.expiresInSeconds ?? 3600,
      maxUsesPerToken: options.maxUsesPerToken,
      now: options.now ?? Date.now,
    };
  }

  /** Tokens issued so far, and per grant type. */
  count(): { total: number; byGrant: Record<string, number> } {
    return { total: this.issued, byGrant: { ...this.grants } };
  }

  /** Answers a token request: `authorization` header value (if any) and the form body text. */
  issue(authorization: string | undefined, formText: string): TokenAnswer {
    const form = new URLSearchParams(formText);
    let clientId = form.get("client_id") ?? undefined;
    let clientSecret = form.get("client_secret") ?? undefined;
    const basic = authorization ? /^Basic\s+(\S+)$/i.exec(authorization.trim()) : null;
    if (basic) {
      const pair = Buffer.from(basic[1], "base64").toString("utf8");
      const colon = pair.indexOf(":");
      clientId = decodeURIComponent(pair.slice(0, colon));
      clientSecret = decodeURIComponent(pair.slice(colon + 1));
    }
    if (clientId !== this.options.clientId || clientSecret === undefined || !same(clientSecret, this.options.clientSecret)) {
      return { status: 401, body: { error: "invalid_client" } };
    }
    const grant = form.get("grant_type");
    if (grant === "refresh_token") {
      const given = form.get("refresh_token");
      if (given === null || !same(given, this.options.refreshToken)) return { status: 400, body: { error: "invalid_grant" } };
    } else if (grant !== "client_credentials") {
      return { status: 400, body: { error: "unsupported_grant_type" } };
    }
    const token = "at-" + crypto.randomBytes(12).toString("hex");
    const scope = form.get("scope") ?? "";
    this.tokens.set(token, { expiresAt: this.options.now() + this.options.expiresInSeconds * 1000, uses: 0, scope: scope });
    this.issued += 1;
    this.grants[grant] = (this.grants[grant] ?? 0) + 1;
    return { status: 200, body: { access_token: token, token_type: "Bearer", expires_in: this.options.expiresInSeconds, scope: scope } };
  }

  /** True when `token` was issued, has not expired and has uses left; counts the use. */
  use(token: string): boolean {
    const issued = this.tokens.get(token);
    if (!issued || this.options.now() >= issued.expiresAt) return false;
    if (this.options.maxUsesPerToken !== undefined && issued.uses >= this.options.maxUsesPerToken) return false;
    issued.uses += 1;
    return true;
  }
}

function same(given: string, expected: string): boolean {
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
