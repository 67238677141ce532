import * as grpc from "@grpc/grpc-js";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";

/**
 * `${sm:projects/P/secrets/S/versions/V}` references in a source config: resolved with Google
 * Secret Manager (AccessSecretVersion) in the process that makes the requests - a Dataflow
 * worker, or this process on the direct runner - never on the driver, never in the graph.
 * Values are cached per process (one call per version name), never logged; the caller masks them.
 *
 * `API2LAKE_SECRET_MANAGER_ENDPOINT=host:port` points the client at a plaintext gRPC endpoint
 * (a local server implementing the Secret Manager API, as the tests use); without it the client
 * talks to secretmanager.googleapis.com with Application Default Credentials.
 */

/** A reference, as written in a config; group 1 is the secret version's resource name. */
export const SECRET_MANAGER_REF = /\$\{sm:(projects\/[^/{}\s]+\/secrets\/[^/{}\s]+\/versions\/[^/{}\s]+)\}/g;

/** Reads one secret version's payload (UTF-8); rejects with an Error that names the version. */
export type AccessSecret = (name: string) => Promise<string>;

/** gRPC codes that a retry in the same process cannot fix: such a failure stays cached. */
const PERMANENT = new Set([grpc.status.NOT_FOUND, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION]);

let client: SecretManagerServiceClient | undefined;
const cache = new Map<string, Promise<string>>();
const resolvedValues = new Set<string>();

function secretManagerClient(): SecretManagerServiceClient {
  if (client) return client;
  // Loaded on first use: a config without `${sm:...}` never pays for the client.
  const SecretManagerServiceClient = (require("@google-cloud/secret-manager") as typeof import("@google-cloud/secret-manager")).SecretManagerServiceClient;
  const endpoint = process.env.API2LAKE_SECRET_MANAGER_ENDPOINT;
  if (!endpoint) {
    client = new SecretManagerServiceClient();
    return client;
  }
  const m = /^(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`API2LAKE_SECRET_MANAGER_ENDPOINT must be host:port, got ${JSON.stringify(endpoint)}`);
  client = new SecretManagerServiceClient({ apiEndpoint: m[1], port: Number(m[2]), sslCreds: grpc.credentials.createInsecure() });
  return client;
}

async function fetchSecret(name: string): Promise<string> {
  const response = (await secretManagerClient().accessSecretVersion({ name: name }))[0];
  const data = response.payload?.data;
  if (data === undefined || data === null) throw new Error(`Secret Manager secret ${name} has no payload`);
  const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
  resolvedValues.add(text);
  return text;
}

/**
 * The payload of secret version `name` (`projects/P/secrets/S/versions/V`), from this process's
 * cache or Secret Manager. A failure rejects with `Secret Manager secret <name> could not be read
 * (<gRPC status>)` - the name, never a value; transient failures are not cached.
 */
export const accessSecretVersion: AccessSecret = (name: string) => {
  const cached = cache.get(name);
  if (cached) return cached;
  const pending = fetchSecret(name).catch((error: Error & { code?: number }) => {
    if (error.code === undefined || !PERMANENT.has(error.code)) cache.delete(name);
    throw new Error(`Secret Manager secret ${name} could not be read (${error.message.split("\n")[0]})`);
  });
  cache.set(name, pending);
  return pending;
};

/** True when a JSON-like value holds at least one `${sm:...}` reference. */
export function hasSecretManagerReferences(value: unknown): boolean {
  return new RegExp(SECRET_MANAGER_REF.source).test(JSON.stringify(value) ?? "");
}

/**
 * Resolves every `${sm:...}` reference inside a JSON-like value (a copy) and lists the values
 * it substituted (secrets: the caller masks them).
 * @throws Error `<key path>: Secret Manager secret <name> could not be read (...)` for the first
 *   reference that fails
 */
export async function resolveSecretManagerReferences<T>(value: T, access: AccessSecret = accessSecretVersion): Promise<{ value: T; secretValues: string[] }> {
  const names = new Set<string>();
  collect(value, names);
  const values = new Map<string, string>();
  const failures = new Map<string, Error>();
  await Promise.all([...names].map((name) => access(name).then((v) => void values.set(name, v), (e: Error) => void failures.set(name, e))));
  const substitute = (v: unknown, at: (string | number)[]): unknown => {
    if (typeof v === "string") {
      return v.replace(new RegExp(SECRET_MANAGER_REF.source, "g"), (_whole: string, name: string) => {
        const failure = failures.get(name);
        if (failure) throw new Error(`${at.length ? at.join(".") : "(value)"}: ${failure.message}`);
        return values.get(name)!;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => substitute(x, at.concat([i])));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const entry of Object.entries(v as Record<string, unknown>)) out[entry[0]] = substitute(entry[1], at.concat([entry[0]]));
      return out;
    }
    return v;
  };
  return { value: substitute(value, []) as T, secretValues: [...values.values()].filter((v) => v.length > 0) };
}

/** Every secret value this process has read from Secret Manager (to mask in what the driver writes). */
export function secretManagerValuesRead(): string[] {
  return [...resolvedValues];
}

function collect(value: unknown, names: Set<string>): void {
  if (typeof value === "string") {
    for (const m of value.matchAll(new RegExp(SECRET_MANAGER_REF.source, "g"))) names.add(m[1]);
  } else if (Array.isArray(value)) value.forEach((v) => collect(v, names));
  else if (value !== null && typeof value === "object") for (const v of Object.values(value as Record<string, unknown>)) collect(v, names);
}
