import type { AuthConfig, SourceConfig } from "../../model/source-config";
import { secretsOf, variants, type Secrets } from "./auth/redact";
import { accessSecretVersion, hasSecretManagerReferences, resolveSecretManagerReferences, type AccessSecret } from "./secret-manager";

/**
 * Secrets are values, not key names: every value a `${NAME}` reference brought into a config
 * (baseUrl, params, pathParams, auth, anything) is secret, unless the config lists `NAME` in
 * `publicVariables`. A `${NAME:-default}` that fell back to its default is not secret (the
 * default is written in the file).
 *
 * Secrets stay out of what Beam serializes: the loader resolves `${VAR}` for the driver, but
 * remembers where the references were; `sealForWorkers` puts the references back into the config
 * that DoFns capture (so the pipeline proto, a staged Dataflow graph or a template never holds the
 * secret), and `openSecrets` resolves them where the request is made and returns the values to
 * mask. A secret written literally in the YAML stays literal: put secrets in the environment.
 */

/** `${NAME}` or `${NAME:-default}`, as in the config files. */
export const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

type KeyPath = (string | number)[];
type Env = Record<string, string | undefined>;

/** Where a loaded config's references were (key path -> the text as written) and the secret values they produced. */
interface Tracked {
  refs: { path: KeyPath; raw: string }[];
  values: string[];
}

/** Loaded configs -> their references (driver only: never serialized). */
const tracked = new WeakMap<object, Tracked>();

/**
 * Called by the loader with the raw (uninterpolated) config it loaded and the environment it used:
 * records every string holding a non-public reference, and the values those references produced.
 */
export function rememberSecretReferences(loaded: SourceConfig, rawInput: unknown, env: Env = process.env): void {
  const publicNames = new Set(loaded.publicVariables ?? []);
  const refs: Tracked["refs"] = [];
  const values: string[] = [];
  walkStrings(rawInput, [], (text, at) => {
    const found = substitutions(text, env, publicNames);
    if (!found.secretRefs) return;
    refs.push({ path: at, raw: text });
    values.push(...found.secretValues);
  });
  if (refs.length) tracked.set(loaded, { refs: refs, values: values });
}

/**
 * The config to capture in DoFns: every string that held a non-public `${VAR}` is back to its
 * reference text. A config without references (or already sealed) is returned as it is.
 */
export function sealForWorkers(source: SourceConfig): SourceConfig {
  const t = tracked.get(source);
  if (!t) return source;
  const copy = JSON.parse(JSON.stringify(source)) as Record<string, unknown>;
  for (const ref of t.refs) setAt(copy, ref.path, ref.raw);
  return copy as unknown as SourceConfig;
}

/**
 * Resolves a (sealed or loaded) config for making requests in this process, and returns the
 * secrets to mask in everything that leaves the REST read (URLs, lineage, page summaries, dead
 * letters): each secret value with its URL- and form-encoded forms, the basic-auth header value,
 * and an `api_key` query parameter's name.
 * @throws Error naming the key path when a referenced variable is not set here.
 */
export function openSecrets(source: SourceConfig, env: Env = process.env): { source: SourceConfig; secrets: Secrets } {
  const known = tracked.get(source);
  if (known) return { source: source, secrets: withAuth(known.values, source.auth) };
  const resolved = resolveReferences(source, env, new Set(source.publicVariables ?? []));
  const opened = resolved.value as SourceConfig;
  return { source: opened, secrets: withAuth(resolved.secretValues, opened.auth) };
}

/**
 * `openSecrets`, then every `${sm:projects/P/secrets/S/versions/V}` reference resolved with
 * Secret Manager (sources/rest/secret-manager.ts): what the process that makes the requests
 * calls. The secrets to mask include the Secret Manager values and the auth built from them.
 * @throws Error naming the key path and the variable or the secret version (never a value)
 */
export async function openSecretsWhereRequested(
  source: SourceConfig, env: Env = process.env, access: AccessSecret = accessSecretVersion,
): Promise<{ source: SourceConfig; secrets: Secrets }> {
  const opened = openSecrets(source, env);
  if (!hasSecretManagerReferences(opened.source)) return opened;
  const resolved = await resolveSecretManagerReferences(opened.source, access);
  return { source: resolved.value, secrets: mergeSecrets([opened.secrets, withAuth(resolved.secretValues, resolved.value.auth)]) };
}

/**
 * Resolves every `${VAR}` inside a JSON-like value (a copy; unchanged when none), and lists the
 * values of non-public variables it substituted.
 * @throws Error naming the key path when a variable is neither set nor defaulted.
 */
export function resolveReferences<T>(value: T, env: Env = process.env, publicNames: ReadonlySet<string> = new Set()): { value: T; secretValues: string[] } {
  const secretValues: string[] = [];
  const visit = (v: unknown, at: KeyPath): unknown => {
    if (typeof v === "string") {
      if (!new RegExp(ENV_REF.source).test(v)) return v;
      const found = substitutions(v, env, publicNames);
      if (found.missing) throw new Error(`${pathText(at)}: environment variable ${found.missing} is not set where the request is made`);
      secretValues.push(...found.secretValues);
      return found.text;
    }
    if (Array.isArray(v)) return v.map((x, i) => visit(x, at.concat([i])));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const entry of Object.entries(v as Record<string, unknown>)) out[entry[0]] = visit(entry[1], at.concat([entry[0]]));
      return out;
    }
    return v;
  };
  return { value: visit(value, []) as T, secretValues: secretValues };
}

/** The union of several secret sets (e.g. every source of a run, for its manifest and log). */
export function mergeSecrets(sets: readonly Secrets[]): Secrets {
  const values = new Set<string>();
  const queryParams = new Set<string>();
  for (const s of sets) {
    for (const v of s.values) values.add(v);
    for (const q of s.queryParams) queryParams.add(q);
  }
  return { values: [...values], queryParams: [...queryParams] };
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
export function resolveAuthSecrets(auth: AuthConfig, env: Env = process.env): AuthConfig {
  try {
    return resolveReferences(auth, env).value;
  } catch (error) {
    throw new Error(`auth.${(error as Error).message}`);
  }
}

function withAuth(values: readonly string[], auth: AuthConfig): Secrets {
  const fromAuth = secretsOf(auth);
  return mergeSecrets([fromAuth, { values: values.flatMap((v) => variants(v)), queryParams: [] }]);
}

/** One string's substitutions: the resolved text, the non-public values used, the first missing variable. */
interface Substituted {
  text: string;
  /** Values of non-public variables that were set (defaults are not secret). */
  secretValues: string[];
  /** True when the text references at least one non-public variable. */
  secretRefs: boolean;
  /** The first variable neither set nor defaulted. */
  missing?: string;
}

function substitutions(text: string, env: Env, publicNames: ReadonlySet<string>): Substituted {
  const secretValues: string[] = [];
  let secretRefs = false;
  let missing: string | undefined;
  const out = text.replace(ENV_REF, (whole: string, name: string, fallback: string | undefined) => {
    const found = env[name];
    const isPublic = publicNames.has(name);
    if (!isPublic) secretRefs = true;
    if (found !== undefined && found !== "") {
      if (!isPublic) secretValues.push(found);
      return found;
    }
    if (fallback !== undefined) return fallback;
    missing ??= name;
    return whole;
  });
  return { text: out, secretValues: secretValues, secretRefs: secretRefs, missing: missing };
}

function walkStrings(value: unknown, at: KeyPath, visit: (text: string, at: KeyPath) => void): void {
  if (typeof value === "string") {
    if (new RegExp(ENV_REF.source).test(value)) visit(value, at);
  } else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, at.concat([i]), visit));
  else if (value !== null && typeof value === "object") {
    for (const entry of Object.entries(value as Record<string, unknown>)) walkStrings(entry[1], at.concat([entry[0]]), visit);
  }
}

function setAt(root: Record<string, unknown>, at: KeyPath, text: string): void {
  let current: unknown = root;
  for (let i = 0; i < at.length - 1; i++) {
    if (current === null || typeof current !== "object") return;
    current = (current as Record<string | number, unknown>)[at[i]];
  }
  if (current !== null && typeof current === "object" && at.length) (current as Record<string | number, unknown>)[at[at.length - 1]] = text;
}

function pathText(at: KeyPath): string {
  return at.length ? at.map(String).join(".") : "(value)";
}
