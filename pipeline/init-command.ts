import * as fs from "fs";
import { stringify } from "yaml";
import type { ParsedOptions } from "./options";
import { UsageError } from "./usage-error";
import { sanitizeName } from "../transforms/names";
import { guessFieldTypes, guessPaginator, guessPrimaryKey, guessRecordsPath } from "../sources/rest/sample-inspector";
import { getPath } from "../sources/rest/json-path";
import { validateSourceConfig } from "../sources/rest/config-loader";

/**
 * `api2lake init --url <endpoint> [--header "K: V" ...] [--out config.yaml]`: fetches one sample
 * response and writes a starting source config (records path, primary key, paginator, fields with
 * inferred types; sources/rest/sample-inspector.ts). Header values that look secret (by name:
 * authorization, api key, token, secret, password, cookie; or by value: 20+ random-looking
 * characters) become `${VAR}` references - the file never holds them - and the variables to set
 * are printed on stderr. Without an `--out` ending in .yaml/.yml the config is printed on stdout.
 */

const SECRET_NAME = /authorization|api[-_]?key|token|secret|password|cookie|session/i;
const SECRET_VALUE = /^[A-Za-z0-9_\-.~+/=]{20,}$/;

/** `X-API-Key` -> `X_API_KEY`: the environment variable a secret header value is read from. */
export function envName(header: string): string {
  return header.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "API_SECRET";
}

/** Parses `--header` values ("K: V", one per line when repeated). */
export function parseHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? "").split("\n").filter((l) => l.trim() !== "")) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header "${line}" is not "Name: value"`);
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** The config (plain data, as it goes into YAML) and the variables whose values the user must set. */
export function draftConfig(
  url: URL, headers: Record<string, string>, body: unknown, responseHeaders: Record<string, string>,
): { config: Record<string, unknown>; env: Record<string, string> } {
  const recordsPath = guessRecordsPath(body);
  if (recordsPath === undefined) throw new UsageError(`${url.href}: the response holds no array of objects to read records from`);
  const found = recordsPath === "" ? body : getPath(body, recordsPath);
  const records = (found as unknown[])
    .filter((r): r is Record<string, unknown> => r !== null && typeof r === "object" && !Array.isArray(r));
  const guess = guessPaginator(body, responseHeaders, url);
  const env: Record<string, string> = {};
  const config: Record<string, unknown> = {};
  const segments = url.pathname.split("/").filter(Boolean);
  const entity = sanitizeName(segments[segments.length - 1] ?? "records").replace(/^([^a-z])/, "e_$1");
  config.name = sanitizeName(segments[0] ?? url.hostname).replace(/^([^a-z])/, "s_$1");
  config.baseUrl = url.origin;
  const plain: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (!SECRET_NAME.test(name) && !SECRET_VALUE.test(value)) {
      plain[name] = value;
      continue;
    }
    const bearer = /^bearer\s+(.+)$/i.exec(value);
    if (name.toLowerCase() === "authorization" && bearer) {
      env.API_TOKEN = bearer[1];
      config.auth = { type: "bearer", token: "${API_TOKEN}" };
    } else if (/api[-_]?key/i.test(name) && config.auth === undefined) {
      env[envName(name)] = value;
      config.auth = { type: "api_key", location: "header", name: name, value: `\${${envName(name)}}` };
    } else {
      env[envName(name)] = value;
      plain[name] = `\${${envName(name)}}`;
    }
  }
  if (Object.keys(plain).length) config.headers = plain;
  const params: Record<string, string> = {};
  for (const entry of url.searchParams.entries()) if (!guess.pagingParams.includes(entry[0])) params[entry[0]] = entry[1];
  const declared: Record<string, unknown> = {};
  config.entities = { [entity]: declared };
  declared.path = url.pathname;
  if (Object.keys(params).length) declared.params = params;
  declared.recordsPath = recordsPath;
  declared.paginator = guess.paginator;
  const key = guessPrimaryKey(records);
  const types = guessFieldTypes(records);
  const fields: Record<string, Record<string, unknown>> = {};
  const dates: Record<string, Record<string, unknown>> = {};
  for (const field of Object.keys(types)) {
    const column = sanitizeName(field);
    fields[column] = key === field ? { type: types[field], required: true } : { type: types[field] };
    if (types[field] === "timestamp") dates[column] = { formats: ["iso"], output: "timestamp" };
  }
  if (key !== undefined) declared.primaryKey = [sanitizeName(key)];
  declared.fields = fields;
  if (Object.keys(dates).length) declared.dates = dates;
  return { config: config, env: env };
}

export async function initCommand(options: ParsedOptions): Promise<number> {
  if (!options.url) throw new UsageError("--url is required (the endpoint to sample)");
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new UsageError(`--url "${options.url}" is not a URL`);
  }
  const headers = parseHeaders(options.header);
  const response = await fetch(url, { headers: { accept: "application/json", ...headers } }).catch((error: Error) => {
    throw new UsageError(`${url.origin}${url.pathname}: ${error.message}`);
  });
  if (!response.ok) throw new UsageError(`${url.origin}${url.pathname}: HTTP ${response.status}`);
  const body: unknown = await response.json().catch(() => {
    throw new UsageError(`${url.origin}${url.pathname}: the body is not JSON`);
  });
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => (responseHeaders[name] = value));
  const draft = draftConfig(url, headers, body, responseHeaders);
  // What init writes must load: the same validation `run` applies (with the secrets as given).
  validateSourceConfig(draft.config, "init", { env: { ...process.env, ...draft.env } });
  const header = "# Written by api2lake init from one sample response: check it with `api2lake check --config <this file>`.\n";
  const text = header + stringify(draft.config);
  if (options.out && options.out !== "./out" && !/\.ya?ml$/.test(options.out)) {
    throw new UsageError(`--out "${options.out}": init writes a .yaml file`);
  }
  const out = options.out && /\.ya?ml$/.test(options.out) ? options.out : undefined;
  if (out) {
    fs.writeFileSync(out, text);
    console.error(`wrote ${out}`);
  } else console.log(text);
  const vars = Object.keys(draft.env);
  const exports = vars.map((v) => `export ${v}=...`).join("; ");
  if (vars.length) console.error(`secret header values were not written; set them before running: ${exports}`);
  return 0;
}
