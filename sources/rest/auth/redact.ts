import type { AuthConfig } from "../../../model/source-config";

/**
 * Secret masking and removal. Every message, URL, header dump, dead letter and page summary
 * that leaves the REST source goes through `redact` first.
 */

/** `demo-key` -> `d*****y`; short secrets are fully starred so nothing leaks. */
export function maskSecret(secret: string): string {
  if (secret.length <= 4) return "*****";
  return secret[0] + "*****" + secret[secret.length - 1];
}

/** What to remove: secret values, and query parameters that carry a secret. */
export interface Secrets {
  values: string[];
  queryParams: string[];
}

/** The secrets an auth config holds (values as given and as they appear when URL- or base64-encoded). */
export function secretsOf(auth: AuthConfig | undefined): Secrets {
  if (!auth || auth.type === "none") return { values: [], queryParams: [] };
  if (auth.type === "api_key") {
    return { values: variants(auth.value), queryParams: auth.location === "query" ? [auth.name] : [] };
  }
  if (auth.type === "bearer") return { values: variants(auth.token), queryParams: [] };
  if (auth.type === "oauth2") {
    // The client secret travels form-encoded or inside HTTP Basic client authentication (RFC 6749 2.3.1).
    const client = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString("base64");
    const refresh = auth.refreshToken ? variants(auth.refreshToken) : [];
    return { values: variants(auth.clientSecret).concat(refresh, [client]), queryParams: [] };
  }
  const basic = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
  return { values: variants(auth.password).concat([basic]), queryParams: [] };
}

/** A value as given, URL-encoded and form-encoded (how it can appear in a URL or a body). */
export function variants(value: string): string[] {
  const out = [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
  return out.filter((v, i) => v.length > 0 && out.indexOf(v) === i);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Removes every secret value and the value of every secret-carrying query parameter
 * (`api_key=...` -> `api_key=*****`), plus `Authorization` header values, from any text.
 * @example redact("GET /x?api_key=demo-key", { values: ["demo-key"], queryParams: ["api_key"] }) // "GET /x?api_key=*****"
 */
export function redact(text: string, secrets: Secrets): string {
  let out = text;
  for (const param of secrets.queryParams) {
    out = out.replace(new RegExp(`([?&]${escapeRegExp(encodeURIComponent(param))}=)[^&#\\s"']*`, "g"), "$1*****");
  }
  out = out.replace(/(authorization["']?\s*[:=]\s*["']?(?:bearer|basic)?\s*)[^\s"',}]+/gi, "$1*****");
  // Longest first, so a secret that contains another is removed whole.
  const values = secrets.values.slice().sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join(maskSecret(value));
  return out;
}

/** Redacts every string inside a JSON-like value (returns a copy). */
export function redactDeep<T>(value: T, secrets: Secrets): T {
  if (typeof value === "string") return redact(value, secrets) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets)) as unknown as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v, secrets);
    return out as T;
  }
  return value;
}
