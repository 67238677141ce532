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

const SECRET_FIELDS = ["value", "token", "password"] as const;
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

/** The config to capture in DoFns: auth secrets as `${VAR}` references, not values. */
export function sealForWorkers(source: SourceConfig): SourceConfig {
  const refs = references.get(source);
  if (!refs) return source;
  return { ...source, auth: { ...source.auth, ...refs } as AuthConfig };
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
