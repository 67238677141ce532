import { z } from "zod";
import { DateTime, Duration } from "luxon";

/**
 * The declarative source config (the presets are written in it, and so are users' own APIs).
 * One schema, validated before anything runs; the TypeScript types are inferred from it.
 * Validated configs are plain JSON data, so they can be captured by Beam closures.
 */

const secret = z.string().min(1);

export const authSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("none") }).strict(),
  z.object({ type: z.literal("api_key"), location: z.enum(["header", "query"]).default("header"), name: z.string().min(1), value: secret }).strict(),
  z.object({ type: z.literal("bearer"), token: secret }).strict(),
  z.object({ type: z.literal("basic"), username: z.string().min(1), password: secret }).strict(),
  /**
   * OAuth2 (RFC 6749): client credentials (4.4), or the refresh-token grant (6) when `refreshToken` is
   * given. The token URL may be on any origin; the access token is only sent to the source's baseUrl.
   */
  z.object({
    type: z.literal("oauth2"),
    tokenUrl: z.string().url(),
    clientId: z.string().min(1),
    clientSecret: secret,
    scopes: z.array(z.string().min(1)).default([]),
    refreshToken: secret.optional(),
    /** A token is renewed this many seconds before its `expires_in` runs out. */
    refreshBeforeSeconds: z.number().int().min(0).default(60),
  }).strict(),
]);
export type AuthConfig = z.infer<typeof authSchema>;

/** Dotted path into a JSON body, e.g. `pagination.endCursor`; `""` means the body itself. */
const jsonPath = z.string();

export const paginatorSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("single_page") }).strict(),
  z.object({
    type: z.literal("page_number"),
    pageParam: z.string().default("page"),
    startPage: z.number().int().default(1),
    sizeParam: z.string().optional(),
    size: z.number().int().positive().optional(),
    /** Stop when page >= this value (total pages) ... */
    totalPagesPath: jsonPath.optional(),
    /** ... or when this flag is false ... (an empty page always stops) */
    hasMorePath: jsonPath.optional(),
  }).strict(),
  z.object({
    type: z.literal("offset"),
    offsetParam: z.string().default("offset"),
    limitParam: z.string().default("limit"),
    limit: z.number().int().positive().default(100),
    totalPath: jsonPath.optional(),
    /** Stop when this flag is false (without total or flag: an empty page stops). */
    hasMorePath: jsonPath.optional(),
  }).strict(),
  z.object({
    type: z.literal("cursor"),
    cursorParam: z.string().default("after"),
    cursorPath: jsonPath.default("pagination.endCursor"),
    hasMorePath: jsonPath.optional(),
    limitParam: z.string().optional(),
    limit: z.number().int().positive().optional(),
    /** Dotted path in the request body that receives the cursor instead of a query param (`variables.after`). */
    cursorBodyPath: z.string().min(1).optional(),
  }).strict(),
  /** The next cursor comes in a response header (`X-Next-Cursor`) and is sent back as `cursorParam`. */
  z.object({
    type: z.literal("header_cursor"),
    header: z.string().min(1),
    cursorParam: z.string().min(1).default("cursor"),
  }).strict(),
  z.object({ type: z.literal("next_url"), nextUrlPath: jsonPath.default("next") }).strict(),
  z.object({ type: z.literal("link_header") }).strict(),
]);
export type PaginatorConfig = z.infer<typeof paginatorSchema>;
export type PaginatorType = PaginatorConfig["type"];

export const retrySchema = z.object({
  maxAttempts: z.number().int().min(1).default(5),
  baseDelayMs: z.number().int().min(0).default(200),
  maxDelayMs: z.number().int().min(0).default(10_000),
  timeoutMs: z.number().int().positive().default(30_000),
  /** Longest wait a server may ask for (Retry-After, rate-limit reset headers); longer = dead letter. */
  maxWaitMs: z.number().int().min(0).default(300_000),
}).strict();

/**
 * What to do with a response, declared like dlt's `response_actions` / Airbyte's error handlers. A
 * rule matches when every condition it gives holds (status, header [equal to `equals`], body regex);
 * the first matching rule wins, entity rules before source rules.
 */
export const responseActionSchema = z.object({
  status: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
  /** Header name (any case); without `equals` the header only has to be present. */
  header: z.string().min(1).optional(),
  equals: z.string().optional(),
  /** JavaScript regular expression tested against the decoded body text. */
  contentMatches: z.string().min(1).refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression").optional(),
  /** retry: retried with backoff (or the wait the headers ask); ignore: an empty page, counted; fail: fetch dead letter. */
  action: z.enum(["retry", "ignore", "fail"]),
}).strict().refine((a) => a.status !== undefined || a.header !== undefined || a.contentMatches !== undefined, "a response action needs status, header or contentMatches")
  .refine((a) => a.equals === undefined || a.header !== undefined, "equals needs header");
export type ResponseAction = z.infer<typeof responseActionSchema>;

export const fieldTypeSchema = z.enum(["string", "integer", "number", "boolean", "date", "timestamp", "json"]);
export type FieldType = z.infer<typeof fieldTypeSchema>;

/** A declared column (named as it lands, i.e. after flattening and name sanitizing). */
export const fieldSchema = z.object({
  type: fieldTypeSchema,
  required: z.boolean().default(false),
  min: z.number().optional(),
  max: z.number().optional(),
  maxLength: z.number().int().positive().optional(),
  /** Values that mean "no value" (e.g. `[-999, "n/a"]`): they become null, counted as `sentinel_nulled`. */
  nullValues: z.array(z.union([z.number(), z.string()])).optional(),
  /**
   * A wrong-typed or out-of-range value: `reject` the record (default) or make the value `null`
   * (counted as `invalid_nulled`). YAML reads a bare `null` as no value, so that means `"null"` too.
   */
  onInvalid: z.preprocess((v) => (v === null ? "null" : v), z.enum(["null", "reject"]).optional()),
}).strict();
export type FieldConfig = z.infer<typeof fieldSchema>;

export const phoneSchema = z.object({
  /** ISO 3166 region for numbers without a country code, e.g. `FR`, `US`. */
  region: z.string().regex(/^[A-Z]{2}$/),
}).strict();

export const dateSchema = z.object({
  /** Accepted formats in priority order: `iso`, `rfc2822`, `epoch_s`, `epoch_ms`, or a luxon pattern like `dd/MM/yyyy`. */
  formats: z.array(z.string().min(1)).min(1),
  /** IANA zone for zone-less input. */
  zone: z.string().default("UTC"),
  /** A per-row zone: e.g. each station's zone, by its id; rows whose value is not listed use `zone`. */
  zoneBy: z.object({ field: z.string(), zones: z.record(z.string(), z.string()) }).strict().optional(),
  output: z.enum(["date", "timestamp"]).default("timestamp"),
  required: z.boolean().default(false),
  /** A zone-less wall time in a spring-forward gap: `reject` the record (default) or `shift` it forward by the gap. */
  onGap: z.enum(["reject", "shift"]).optional(),
}).strict();
export type DateFieldConfig = z.infer<typeof dateSchema>;

export const sliceSchema = z.object({
  /** Query params that receive each slice's bounds. */
  startParam: z.string(),
  endParam: z.string().optional(),
  /** ISO-8601 duration of one slice; one day by default. */
  step: z.string().default("P1D"),
  /**
   * How bounds are written (in UTC): `iso` timestamps, `date` (yyyy-MM-dd), epoch milliseconds, or a
   * luxon pattern (https://moment.github.io/luxon/#/formatting?id=table-of-tokens) such as AirQino's
   * `yyyyMMdd-HHmm` (`20260910-0000`).
   */
  format: z.union([
    z.enum(["iso", "date", "epoch_ms"]),
    z.string().min(1).refine(isBoundPattern, "must be iso, date, epoch_ms or a luxon pattern that writes a time and reads it back (e.g. yyyyMMdd-HHmm)"),
  ]).default("iso"),
}).strict();

/** An ISO-8601 duration as luxon reads it (`PT1H`, `P1D`, `PT0S`). */
const isoDuration = z.string().refine((text) => Duration.fromISO(text).isValid, "must be an ISO-8601 duration such as PT1H or P1D");
/** A cursor value: an ISO timestamp (compared as an instant) or a number. */
const cursorValue = z.union([z.string().min(1), z.number()]);

/**
 * Incremental loading on a cursor field (dlt's `incremental`, Airbyte's `DatetimeBasedCursor`): each request
 * asks for records whose `cursorField` is at least the start, sent as `param`. The start is the largest
 * cursor the sinks committed (per parent key for a child entity), minus `lag`, or `initial` on the first run.
 */
export const incrementalSchema = z.object({
  /** Dotted path of the cursor in the API's record (`updated_at`, `meta.modified`). */
  cursorField: z.string().min(1),
  /** Query parameter receiving the start; optional only with `order: desc` (then the start just stops paging). */
  param: z.string().min(1).optional(),
  initial: cursorValue,
  /** Re-read window before the committed cursor (ISO-8601 duration for timestamp cursors). */
  lag: isoDuration.optional(),
  /** Fixed upper bound sent as `endParam` (the cursor is not read beyond it). */
  end: cursorValue.optional(),
  endParam: z.string().min(1).optional(),
  /** Order of records across pages: with `desc` paging stops after the first page reaching a record older than the start. */
  order: z.enum(["asc", "desc"]).default("asc"),
}).strict()
  .refine((i) => i.param !== undefined || i.order === "desc", { message: "param is required unless order: desc", path: ["param"] })
  .refine((i) => (i.end === undefined) === (i.endParam === undefined), { message: "end and endParam go together", path: ["endParam"] })
  .refine((i) => i.lag === undefined || typeof i.initial === "string",
    { message: "lag is a duration: it needs a timestamp cursor (initial is a number)", path: ["lag"] });
export type IncrementalConfig = z.infer<typeof incrementalSchema>;

/**
 * True when a luxon pattern writes an instant as text that reads back to the same UTC day at
 * least (a pattern without the day, or with free letters luxon cannot read back, is refused).
 */
export function isBoundPattern(pattern: string): boolean {
  const probe = DateTime.fromMillis(Date.UTC(2024, 10, 23, 13, 45), { zone: "utc" });
  const back = DateTime.fromFormat(probe.toFormat(pattern), pattern, { zone: "utc" });
  return back.isValid && back.toFormat("yyyy-MM-dd") === probe.toFormat("yyyy-MM-dd");
}

/**
 * An `attach` value naming a value of the request rather than a body path: `{path.<name>}` (a
 * path parameter's value) or `{slice.start}` / `{slice.end}` (the slice bounds, UTC ISO-8601).
 */
export const REQUEST_REFERENCE = /^\{(path|slice)\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

export const aggregateSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("sensor_daily_averages"),
    stationField: z.string(),
    timestampField: z.string(),
    /** The zone each station's zone-less timestamps are read in. */
    zone: z.string(),
    stationZones: z.record(z.string(), z.string()).default({}),
    coField: z.string(),
    pm25Field: z.string(),
  }).strict(),
  z.object({ type: z.literal("jobs_by_location"), idField: z.string(), locationField: z.string() }).strict(),
  z.object({ type: z.literal("jobs_by_skill"), idField: z.string(), skillsField: z.string() }).strict(),
]);
export type AggregateConfig = z.infer<typeof aggregateSchema>;

export const servingSchema = z.object({
  table: z.string(),
  /** Row-key template: `{field}` inserts a field, `{field:yyyyMMdd}` a formatted date, `{field:reverse_ts}` a reverse timestamp. */
  rowKey: z.string(),
  /** Column family -> garbage-collection policy. */
  families: z.record(z.string(), z.object({ maxVersions: z.number().int().positive().default(1), maxAgeDays: z.number().positive().optional() }).strict()),
  /** field -> `family:qualifier:encoding`, encoding one of string, int64, float64, bool, json. */
  columns: z.record(z.string(), z.string().regex(/^[\w-]+:[\w.-]+:(string|int64|float64|bool|json)$/)),
}).strict();
export type ServingConfig = z.infer<typeof servingSchema>;

/**
 * What a run does with a source path the persisted schema lacks (`newColumns`) or with a value
 * whose type does not fit its column (`typeChanges`); dlt's schema contract modes
 * (https://dlthub.com/docs/general-usage/schema-contracts). `evolve` adds the column (a type
 * change lands in `<column>__v_<type>`); `freeze` and `discard_row` dead-letter the record naming
 * the field; `discard_value` nulls the value and counts it.
 */
export const contractModeSchema = z.enum(["evolve", "freeze", "discard_value", "discard_row"]);
export type ContractMode = z.infer<typeof contractModeSchema>;
export const schemaContractSchema = z.object({
  newColumns: contractModeSchema.default("evolve"),
  typeChanges: contractModeSchema.default("evolve"),
}).strict();
export type SchemaContract = z.infer<typeof schemaContractSchema>;

/** Names of landed columns (after flattening and sanitizing), e.g. `customer_id`, `vehicle_id`. */
/** Extra request headers; values may hold `${VAR}`, which are treated as secrets. */
const headersSchema = z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name"), z.string());

/**
 * A query parameter value. YAML numbers and booleans (`per_page: 50`, `active: true`) are accepted and
 * sent as the text JavaScript gives them (`"50"`, `"true"`); YAML has already read `007` as 7 and `1.50`
 * as 1.5 by then, so quote a value whose exact text matters.
 */
const paramValue = z.union([z.string(), z.number().finite(), z.boolean()]).transform((v) => String(v));

const columnName = z.string().regex(/^[a-z_][a-z0-9_]*$/, "must be a landed column name (lowercase, digits, underscores: `updatedAt` lands as `updated_at`)");

export const entitySchema = z.object({
  path: z.string().startsWith("/"),
  /** Values substituted into `{name}` placeholders of the path; one request series per combination. */
  pathParams: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  params: z.record(z.string(), paramValue).default({}),
  /**
   * Dotted path of the records array in the body (`""`: the body is the array), or a JSONPath starting
   * with `$` (`$.data.orders.edges[*].node`, evaluated by jsonpath-plus).
   */
  recordsPath: jsonPath.default("data"),
  /**
   * Values copied into every record: a body path (`{ station_name: "header.station_name" }`), or a
   * value of the request (`{ station_id: "{path.station_id}" }`, `{ window_start: "{slice.start}" }`).
   */
  attach: z.record(z.string(), jsonPath).default({}),
  paginator: paginatorSchema.optional(),
  primaryKey: z.array(columnName).min(1),
  /** Among duplicates the latest value of this field wins. */
  orderBy: columnName.optional(),
  /** The field that dates a record: lake `dt=` partitions and warehouse day partitions. */
  eventDate: columnName.optional(),
  slices: sliceSchema.optional(),
  fields: z.record(z.string(), fieldSchema).default({}),
  phones: z.record(z.string(), phoneSchema).default({}),
  dates: z.record(z.string(), dateSchema).default({}),
  /** Arrays to explode into a child entity `<entity>_<field>` instead of keeping them as JSON. */
  explode: z.array(z.string()).default([]),
  aggregates: z.array(aggregateSchema).default([]),
  serving: servingSchema.optional(),
  /** A request series stops with a fetch dead letter when it reaches this many pages. */
  maxPages: z.number().int().positive().default(10_000),
  /** Checked before the source's `responseActions`. */
  responseActions: z.array(responseActionSchema).default([]),
  /** Schema contract of the entity's undeclared columns (default: evolve both). */
  schema: schemaContractSchema.default({ newColumns: "evolve", typeChanges: "evolve" }),
  /** Other sources of a run may have an entity of this name landing in the same tables (each must say so). */
  sharedTable: z.boolean().default(false),
  /** Largest share (0..1) of fetched records that may be dead-lettered before the run fails; 0.5 when absent. */
  maxDeadLetterShare: z.number().min(0).max(1).optional(),
  method: z.enum(["GET", "POST"]).default("GET"),
  /** JSON body template sent with `method: POST` (e.g. a GraphQL `{ query, variables }`). */
  body: z.record(z.string(), z.unknown()).optional(),
  /** Merged over the source's `headers`. */
  headers: headersSchema.default({}),
  /** Overrides the source's `auth` for this entity. */
  auth: authSchema.optional(),
  /**
   * A parent entity of the same source: one request series per parent record, its fields used as
   * `{parent.<field>}` in `path`, `params` values and string values of `body`.
   */
  parent: z.string().regex(/^[a-z][a-z0-9_]*$/).optional(),
  /** Parent fields landed in every child record, `parent.<field>` -> column `_parent_<field>` (dots -> `_`). */
  include: z.array(z.string().regex(/^parent\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "must be parent.<field>")).default([]),
  /** Incremental loading on a cursor field (a cursor per parent record for a child entity). */
  incremental: incrementalSchema.optional(),
}).strict().refine((e) => e.body === undefined || e.method === "POST", { message: "body needs method: POST", path: ["body"] });
export type EntityConfig = z.infer<typeof entitySchema>;

export const sourceSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  baseUrl: z.string().url(),
  /**
   * Environment variables whose values are not secret (e.g. the API's URL). Every other `${NAME}`
   * value is a secret: masked in URLs, lineage, dead letters, logs and manifests.
   */
  publicVariables: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  auth: authSchema.default({ type: "none" }),
  /** Extra headers on every request of this source (entity `headers` are merged over them). */
  headers: headersSchema.default({}),
  paginator: paginatorSchema.default({ type: "single_page" }),
  retry: retrySchema.default({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, timeoutMs: 30_000, maxWaitMs: 300_000 }),
  responseActions: z.array(responseActionSchema).default([]),
  /** Records nested deeper than this many levels are dead-lettered when read (stage parse). */
  maxDepth: z.number().int().positive().default(64),
  /** Requests per second shared by every concurrent request of this source in the process. */
  rateLimit: z.number().positive().optional(),
  /** Largest record accepted; bigger ones are dead-lettered as oversize. */
  maxRecordBytes: z.number().int().positive().default(1_000_000),
  entities: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), entitySchema),
}).strict().superRefine((source, ctx) => {
  // A cursor placed in the body needs a body to carry it: the entity's or the source's paginator.
  for (const [name, entity] of Object.entries(source.entities)) {
    const paginator = entity.paginator ?? source.paginator;
    if (paginator.type === "cursor" && paginator.cursorBodyPath !== undefined && entity.method !== "POST") {
      const at = entity.paginator ? ["entities", name, "paginator", "cursorBodyPath"] : ["paginator", "cursorBodyPath"];
      ctx.addIssue({ code: "custom", path: at, message: `needs method: POST on entity ${name}` });
    }
  }
  checkParents(source.entities, ctx);
  for (const [name, entity] of Object.entries(source.entities)) checkRequestReferences(name, entity, source.publicVariables, ctx);
});

/** Placeholders `{parent.<field>}` in an entity's path, params and body strings. */
export function parentPlaceholders(entity: { path: string; params: Record<string, string>; body?: Record<string, unknown> }): string[] {
  const texts = [entity.path, ...Object.values(entity.params), ...(entity.body ? [JSON.stringify(entity.body)] : [])];
  const out = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(/\{parent\.([^}]+)\}/g)) out.add(m[1]);
  return [...out];
}

/** Parent -> child rules: the parent exists, no cycle, parent fields only with a parent, no slices with a cursor. */
function checkParents(entities: Record<string, EntityConfig>, ctx: z.RefinementCtx): void {
  for (const [name, entity] of Object.entries(entities)) {
    const at = (...keys: string[]) => ["entities", name, ...keys];
    const issue = (path: string[], message: string) => ctx.addIssue({ code: "custom", path: path, message: message });
    if (entity.incremental && entity.slices) issue(at("incremental"), "incremental and slices exclude each other: pick one");
    if (entity.parent === undefined) {
      if (entity.include.length) issue(at("include"), "include needs parent");
      if (parentPlaceholders(entity).length) issue(at("path"), "{parent.<field>} needs parent");
      continue;
    }
    if (!(entity.parent in entities)) {
      issue(at("parent"), `names no entity of this source (known: ${Object.keys(entities).join(", ")})`);
      continue;
    }
    if (entity.slices) issue(at("slices"), "a child entity cannot have slices (it has a request series per parent record)");
    const seen = [name];
    for (let up: string | undefined = entity.parent; up !== undefined; up = entities[up]?.parent) {
      if (seen.includes(up)) {
        issue(at("parent"), `parent cycle: ${[...seen, up].join(" -> ")}`);
        break;
      }
      seen.push(up);
    }
  }
}

/**
 * `attach` references to the request must name something the request has: a declared path
 * parameter (whose values are not secrets: records land everywhere), or a slice bound of an
 * entity with `slices`.
 */
function checkRequestReferences(name: string, entity: z.infer<typeof entitySchema>, publicVariables: readonly string[], ctx: z.RefinementCtx): void {
  for (const [field, ref] of Object.entries(entity.attach)) {
    if (!ref.startsWith("{")) continue;
    const at = ["entities", name, "attach", field];
    const m = REQUEST_REFERENCE.exec(ref);
    if (!m) {
      ctx.addIssue({ code: "custom", path: at, message: `${JSON.stringify(ref)} is not a request reference: use {path.<name>}, {slice.start} or {slice.end} (or a body path)` });
    } else if (m[1] === "path") {
      const values = entity.pathParams[m[2]];
      if (values === undefined) ctx.addIssue({ code: "custom", path: at, message: `{path.${m[2]}}: entity ${name} has no path parameter ${m[2]} (pathParams: ${Object.keys(entity.pathParams).join(", ") || "none"})` });
      const secret = (values ?? []).flatMap((v) => [...v.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((x) => x[1])).find((v) => !publicVariables.includes(v));
      if (secret !== undefined) ctx.addIssue({ code: "custom", path: at, message: `{path.${m[2]}}: its values come from \${${secret}}, a secret, which must not land in records (list it in publicVariables if it is not secret)` });
    } else if (m[2] !== "start" && m[2] !== "end") {
      ctx.addIssue({ code: "custom", path: at, message: `{slice.${m[2]}}: a slice has start and end` });
    } else if (entity.slices === undefined) {
      ctx.addIssue({ code: "custom", path: at, message: `{slice.${m[2]}} needs slices on entity ${name}` });
    }
  }
}

export type SourceConfig = z.infer<typeof sourceSchema>;
export type SourceConfigInput = z.input<typeof sourceSchema>;
