import type { AuthConfig, SourceConfig } from "../../model/source-config";

/**
 * Credentials stay out of what Beam serializes. The loader resolves `${VAR}` for the driver, but
 * remembers which auth fields were references; `sealForWorkers` puts the references back into
 * the config that DoFns capture (so the pipeline proto, a staged Dataflow graph or a template
 * never holds the secret), and `resolveAuthSecrets` resolves them where the request is made.
 * A secret written literally in the YAML stays literal: put secrets in the environment.
 */

/** `${NAME}` or `${NAME:-default}`, as in the config files. */
export const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

const SECRET_FIELDS = ["value", "token", "password", "clientSecret", "refreshToken"] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

/** Loaded configs -> their auth fields' references, e.g. `{ token: "${FLEET_TOKEN}" }` (driver only). */
const references = new WeakMap<object, Partial<Record<SecretField, string>>>();

/** Called by the loader with the raw (uninterpolated) auth section of a config it loaded. */
export function rememberSecretReferences(loaded: SourceConfig, rawAuth: unknown): void {
  if (rawAuth === null || typeof rawAuth !== "object") return;
  const refs: Partial<Record<SecretField, string>> = {};
  for (const field of SECRET_FIELDS) {
    const raw = (rawAuth as Record<string, unknown>)[field];
    if (typeof raw === "string" && new RegExp(ENV_REF.source).test(raw)) refs[field] = raw;
  }
  if (Object.keys(refs).length) references.set(loaded, refs);
}

/** References in the parts of a request beyond the source's auth: headers, and each entity's auth and headers. */
interface RequestReferences {
  headers: Record<string, string>;
  entities: Record<string, { auth: Partial<Record<SecretField, string>>; headers: Record<string, string> }>;
}
const requestReferences = new WeakMap<object, RequestReferences>();

function authReferences(rawAuth: unknown): Partial<Record<SecretField, string>> {
  const refs: Partial<Record<SecretField, string>> = {};
  if (rawAuth === null || typeof rawAuth !== "object") return refs;
  for (const field of SECRET_FIELDS) {
    const raw = (rawAuth as Record<string, unknown>)[field];
    if (typeof raw === "string" && new RegExp(ENV_REF.source).test(raw)) refs[field] = raw;
  }
  return refs;
}

function headerReferences(rawHeaders: unknown): Record<string, string> {
  const refs: Record<string, string> = {};
  if (rawHeaders === null || typeof rawHeaders !== "object") return refs;
  for (const [name, raw] of Object.entries(rawHeaders as Record<string, unknown>)) {
    if (typeof raw === "string" && new RegExp(ENV_REF.source).test(raw)) refs[name] = raw;
  }
  return refs;
}

/** Called by the loader with the raw (uninterpolated) config: remembers `${VAR}` in headers and entity auth. */
export function rememberRequestReferences(loaded: SourceConfig, raw: unknown): void {
  if (raw === null || typeof raw !== "object") return;
  const top = raw as { headers?: unknown; entities?: Record<string, { auth?: unknown; headers?: unknown }> };
  const refs: RequestReferences = { headers: headerReferences(top.headers), entities: {} };
  for (const [name, entity] of Object.entries(top.entities ?? {})) {
    if (entity === null || typeof entity !== "object") continue;
    const entityRefs = { auth: authReferences(entity.auth), headers: headerReferences(entity.headers) };
    if (Object.keys(entityRefs.auth).length || Object.keys(entityRefs.headers).length) refs.entities[name] = entityRefs;
  }
  if (Object.keys(refs.headers).length || Object.keys(refs.entities).length) requestReferences.set(loaded, refs);
}

/** The config to capture in DoFns: auth secrets and `${VAR}` header values as references, not values. */
export function sealForWorkers(source: SourceConfig): SourceConfig {
  const refs = references.get(source);
  const more = requestReferences.get(source);
  if (!refs && !more) return source;
  const sealed: SourceConfig = refs ? { ...source, auth: { ...source.auth, ...refs } as AuthConfig } : { ...source };
  if (!more) return sealed;
  sealed.headers = { ...source.headers, ...more.headers };
  const entities: SourceConfig["entities"] = {};
  for (const [name, entity] of Object.entries(source.entities)) {
    const entityRefs = more.entities[name];
    if (!entityRefs) {
      entities[name] = entity;
      continue;
    }
    const auth = entity.auth ? ({ ...entity.auth, ...entityRefs.auth } as AuthConfig) : undefined;
    entities[name] = { ...entity, auth: auth, headers: { ...entity.headers, ...entityRefs.headers } };
    if (!auth) delete entities[name].auth;
  }
  sealed.entities = entities;
  return sealed;
}

/**
 * Extra headers with `${VAR}` resolved from this process's environment, and the resolved values
 * (secrets: they are masked wherever they could appear). Throws when a variable is not set.
 */
export function resolveHeaderSecrets(
  headers: Readonly<Record<string, string>>, env: Record<string, string | undefined> = process.env,
): { headers: Record<string, string>; secrets: string[] } {
  const out: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!value.includes("${")) {
      out[name] = value;
      continue;
    }
    out[name] = value.replace(ENV_REF, (_whole: string, variable: string, fallback: string | undefined) => {
      const found = env[variable];
      const resolved = found !== undefined && found !== "" ? found : fallback;
      if (resolved === undefined) throw new Error(`headers.${name}: environment variable ${variable} is not set where the request is made`);
      secrets.push(resolved);
      return resolved;
    });
  }
  return { headers: out, secrets: secrets.filter((s) => s.length > 0) };
}

/** Auth with any `${VAR}` references resolved from this process's environment. */
export function resolveAuthSecrets(auth: AuthConfig, env: Record<string, string | undefined> = process.env): AuthConfig {
  let resolved: Record<string, unknown> | undefined;
  for (const field of SECRET_FIELDS) {
    const value = (auth as Record<string, unknown>)[field];
    if (typeof value !== "string" || !value.includes("${")) continue;
    (resolved ??= { ...auth })[field] = value.replace(ENV_REF, (_whole: string, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      throw new Error(`auth.${field}: environment variable ${name} is not set where the request is made`);
    });
  }
  return (resolved ?? auth) as AuthConfig;
}
