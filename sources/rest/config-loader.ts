import * as fs from "fs";
import * as YAML from "yaml";
import type { z } from "zod";
import { sourceSchema, type SourceConfig } from "../../model/source-config";
import { maskSecret } from "./auth/redact";
import { ENV_REF, rememberRequestReferences, rememberSecretReferences } from "./secrets";

/**
 * Loads a declarative source config: YAML -> `${ENV}` interpolation -> one zod validation.
 * Every error names the file, the key path, the bad value and the valid values, with secrets
 * masked (`d*****y`). The input is never mutated; the result is deeply frozen.
 * @example
 *   const source = loadSourceConfig("presets/commerce.yaml", { env: process.env });
 *   source.entities.customers.paginator?.type; // "page_number"
 */

export class SourceConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.map((p) => `${file}: ${p}`).join("\n"));
    this.name = "SourceConfigError";
  }
}

export interface LoadOptions {
  /** Variables for `${NAME}` / `${NAME:-default}`; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

export function loadSourceConfig(file: string, options: LoadOptions = {}): SourceConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new SourceConfigError(file, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  return parseSourceConfig(text, file, options);
}

export function parseSourceConfig(text: string, file: string, options: LoadOptions = {}): SourceConfig {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new SourceConfigError(file, doc.errors.map((e) => `invalid YAML: ${e.message.split("\n")[0].replace(/:$/, "")}`));
  }
  return validateSourceConfig(doc.toJS(), file, options);
}

/** Interpolates and validates an already-parsed config object (not changed). */
export function validateSourceConfig(input: unknown, file: string, options: LoadOptions = {}): SourceConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const interpolated = interpolate(input, [], env, problems);
  const secrets = secretValues(interpolated);
  const mask = (message: string) => secrets.reduce((m, s) => m.split(s).join(maskSecret(s)), message);
  if (problems.length) throw new SourceConfigError(file, problems.map(mask));
  const result = sourceSchema.safeParse(interpolated);
  if (!result.success) {
    throw new SourceConfigError(file, result.error.issues.map((issue) => mask(describeIssue(issue, interpolated))));
  }
  const loaded = deepFreeze(result.data);
  rememberSecretReferences(loaded, (input as { auth?: unknown } | null)?.auth);
  rememberRequestReferences(loaded, input);
  return loaded;
}


function interpolate(value: unknown, at: (string | number)[], env: Record<string, string | undefined>, problems: string[]): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (whole: string, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${pathText(at)}: environment variable ${name} is not set`);
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, at.concat([i]), env, problems));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = interpolate(v, at.concat([k]), env, problems);
    return out;
  }
  return value;
}

const SECRET_KEYS = ["value", "token", "password", "clientSecret", "refreshToken"];

function secretValues(config: unknown): string[] {
  const auth = config !== null && typeof config === "object" ? (config as Record<string, unknown>).auth : undefined;
  if (auth === null || typeof auth !== "object") return [];
  return SECRET_KEYS.map((k) => (auth as Record<string, unknown>)[k]).filter((v): v is string => typeof v === "string" && v.length > 0);
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join(".") : "(top level)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[step];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = pathText(issue.path);
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_union": {
      const options = (issue as unknown as { options?: unknown[] }).options;
      if (options && options.length) return `${where}: ${show(value)} is not one of ${options.join(", ")}`;
      return `${where}: ${show(value)} matches none of the allowed shapes`;
    }
    case "invalid_value":
      return `${where}: ${show(value)} is not one of ${issue.values.map(String).join(", ")}`;
    case "unrecognized_keys": {
      const allowed = allowedKeys(input, issue.path);
      const known = allowed.length ? ` (valid fields: ${allowed.join(", ")})` : "";
      return `${where}: unexpected field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}${known}`;
    }
    case "invalid_type":
      if (value === undefined) return `${where}: required ${issue.expected} is missing`;
      return `${where}: ${show(value)} is not a ${issue.expected}`;
    default:
      return `${where}: ${show(value)} is invalid (${issue.message})`;
  }
}

/** The field names the schema allows at `path` (best effort, for "did you mean" lists). */
function allowedKeys(input: unknown, path: readonly PropertyKey[]): string[] {
  let schema: unknown = sourceSchema;
  for (let i = 0; i < path.length; i++) {
    schema = child(schema, path[i], valueAt(input, path.slice(0, i)));
    if (!schema) return [];
  }
  const shape = objectShape(schema, valueAt(input, path));
  return shape ? Object.keys(shape) : [];
}

interface AnySchema {
  shape?: Record<string, unknown>;
  options?: unknown[];
  valueType?: unknown;
  element?: unknown;
  unwrap?: () => unknown;
  def?: { innerType?: unknown; type?: string };
}

function unwrap(schema: unknown): AnySchema | undefined {
  let s = schema as AnySchema | undefined;
  for (let i = 0; s && i < 10 && s.def && s.def.innerType; i++) s = s.def.innerType as AnySchema;
  return s;
}

function objectShape(schema: unknown, value: unknown): Record<string, unknown> | undefined {
  const s = unwrap(schema);
  if (!s) return undefined;
  if (s.shape) return s.shape;
  if (s.options) {
    const type = value !== null && typeof value === "object" ? (value as Record<string, unknown>).type : undefined;
    for (const option of s.options) {
      const shape = objectShape(option, value);
      const literal = shape && unwrap(shape.type) as { def?: { values?: unknown[] } } | undefined;
      if (shape && literal && literal.def && literal.def.values && literal.def.values.includes(type)) return shape;
    }
  }
  return undefined;
}

function child(schema: unknown, key: PropertyKey, value: unknown): unknown {
  const s = unwrap(schema);
  if (!s) return undefined;
  const shape = objectShape(s, value);
  if (shape) return shape[String(key)];
  if (s.valueType) return s.valueType;
  if (s.element) return s.element;
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
