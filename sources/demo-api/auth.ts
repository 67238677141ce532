/** The demo API's credentials check: API key (header or query) or bearer token. */
import type * as http from "http";
import * as crypto from "crypto";

export interface DemoCredentials {
  apiKey: string;
  bearerToken: string;
}

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** True when the request carries `X-API-Key`, `?api_key=` or `Authorization: Bearer` matching the credentials. */
export function isAuthorized(req: http.IncomingMessage, url: URL, creds: DemoCredentials): boolean {
  const header = req.headers["x-api-key"];
  if (typeof header === "string" && sameSecret(header, creds.apiKey)) return true;
  const query = url.searchParams.get("api_key");
  if (query !== null && sameSecret(query, creds.apiKey)) return true;
  const authorization = req.headers.authorization;
  if (typeof authorization === "string") {
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (m !== null && sameSecret(m[1], creds.bearerToken)) return true;
  }
  return false;
}
