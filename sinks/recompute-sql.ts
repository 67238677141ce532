import type { RecomputeRequest, StationDay } from "../model/backends";
import type { AggregateConfig } from "../model/source-config";

/**
 * The SQL that recomputes a dataproduct from the hub, for DuckDB and BigQuery. Each statement
 * is the SQL twin of a pure function in `transforms/` (the definition; a test compares them on
 * fixtures with DST days):
 * - `sensor_daily_averages` = `dailyAverages` (transforms/sensor-averages.ts): the hub's
 *   readings (UTC instants) keyed by station and the local calendar day in the station's zone
 *   (`stationZones[station] ?? zone`, IANA names, converted by the engine's tz database: DuckDB's
 *   ICU, BigQuery's `DATE(ts, zone)`); one reading per (station, instant), the smallest
 *   `_payload_hash`; a reading with a negative or non-finite CO/PM2.5 left out; means of the
 *   non-null values. DuckDB sums them in ascending order like the pure function (bit-identical);
 *   BigQuery sums them exactly as BIGNUMERIC (order-independent, within 1 ulp of the pure mean).
 * - `jobs_by_location` / `jobs_by_skill` = `jobsByLocation` / `jobsBySkill`
 *   (transforms/job-counts.ts): postings deduplicated by trimmed id (smallest payload hash),
 *   values split, trimmed (JavaScript's `\s` set), inner whitespace collapsed, empty dropped.
 *
 * Every statement deletes exactly the keys it then inserts (or the whole table for job counts).
 */

/** What differs between the two SQL dialects. */
export interface Dialect {
  name: "duckdb" | "bigquery";
  text: string;
  float: string;
  /** A regular expression literal (RE2 syntax on both). */
  regex(pattern: string): string;
  /** Replaces every match. */
  replaceAll(expr: string, pattern: string, replacement: string): string;
  /** The local calendar day of a UTC instant in `zoneExpr`. */
  localDay(instantExpr: string, zoneExpr: string): string;
  /** A cast that yields NULL instead of failing. */
  tryCast(expr: string, type: string): string;
  isFinite(expr: string): string;
  /** Mean of the non-null values of `expr` in a group, NULL when there are none. */
  mean(expr: string): string;
  /** `CROSS JOIN` of each row with the elements of an array expression, named `alias`. */
  unnestJoin(arrayExpr: string, alias: string): string;
  /** A relation `(station_id, day)` holding `keys`. */
  keysRelation(keys: readonly StationDay[]): string;
  date(day: string): string;
}

/** A SQL string literal (single quotes doubled; BigQuery also needs backslashes escaped). */
export function stringLiteral(text: string, dialect: "duckdb" | "bigquery"): string {
  const body = text.replace(/'/g, "''");
  return dialect === "bigquery" ? `'${body.replace(/\\/g, "\\\\")}'` : `'${body}'`;
}

export const DUCKDB: Dialect = {
  name: "duckdb",
  text: "VARCHAR",
  float: "DOUBLE",
  regex: (p) => stringLiteral(p, "duckdb"),
  replaceAll: (e, p, r) => `regexp_replace(${e}, ${stringLiteral(p, "duckdb")}, ${stringLiteral(r, "duckdb")}, 'g')`,
  localDay: (i, z) => `CAST(timezone(${z}, CAST(${i} AS TIMESTAMPTZ)) AS DATE)`,
  tryCast: (e, t) => `TRY_CAST(${e} AS ${t})`,
  isFinite: (e) => `isfinite(${e})`,
  // Ascending left fold from 0, as `mean` in transforms/sensor-averages.ts: the same doubles.
  mean: (e) =>
    `list_reduce(list_prepend(CAST(0 AS DOUBLE), list_sort(list_filter(list(${e}), v -> v IS NOT NULL))), (a, b) -> a + b)` +
    ` / NULLIF(count(${e}), 0)`,
  unnestJoin: (a, alias) => `CROSS JOIN unnest(${a}) AS u(${alias})`,
  keysRelation: (keys) =>
    `(VALUES ${keys.map((k) => `(${stringLiteral(k.station_id, "duckdb")}, DATE '${checkedDay(k.day)}')`).join(", ")})` +
    " AS k(station_id, day)",
  date: (d) => `DATE '${checkedDay(d)}'`,
};

export const BIGQUERY: Dialect = {
  name: "bigquery",
  text: "STRING",
  float: "FLOAT64",
  // A raw string: RE2 escapes pass through untouched (patterns here never contain a quote).
  regex: (p) => `r'${p}'`,
  replaceAll: (e, p, r) => `REGEXP_REPLACE(${e}, r'${p}', ${stringLiteral(r, "bigquery")})`,
  localDay: (i, z) => `DATE(CAST(${i} AS TIMESTAMP), ${z})`,
  tryCast: (e, t) => `SAFE_CAST(${e} AS ${t})`,
  isFinite: (e) => `NOT (IS_INF(${e}) OR IS_NAN(${e}))`,
  mean: (e) => `CAST(SAFE_DIVIDE(SUM(CAST(${e} AS BIGNUMERIC)), COUNT(${e})) AS FLOAT64)`,
  unnestJoin: (a, alias) => `CROSS JOIN UNNEST(${a}) AS ${alias}`,
  keysRelation: (keys) => {
    const structs = keys.map((k) => `STRUCT(${stringLiteral(k.station_id, "bigquery")} AS station_id, DATE '${checkedDay(k.day)}' AS day)`);
    return `UNNEST([${structs.join(", ")}]) AS k`;
  },
  date: (d) => `DATE '${checkedDay(d)}'`,
};

function checkedDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`recompute: day ${JSON.stringify(day)} is not YYYY-MM-DD`);
  return day;
}

/**
 * JavaScript's `\s` (and so `String.prototype.trim`) as an RE2 class: ECMA-262 WhiteSpace and
 * LineTerminator code points.
 */
const JS_SPACE = "[\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]";

/** `x.trim()` in SQL. */
function jsTrim(d: Dialect, expr: string): string {
  return d.replaceAll(expr, `^${JS_SPACE}+|${JS_SPACE}+$`, "");
}

/** `x.trim().replace(/\s+/g, " ")` in SQL. */
function collapse(d: Dialect, expr: string): string {
  return d.replaceAll(jsTrim(d, expr), `${JS_SPACE}+`, " ");
}

/** Names the statements need: quoted tables and a column quoter. */
export interface RecomputeNames {
  /** Fully qualified, quoted hub table. */
  hub: string;
  /** Fully qualified, quoted dataproduct table. */
  product: string;
  quote(column: string): string;
}

/** The two statements of one recompute: run `delete` then `insert` (in one transaction where the engine has them). */
export interface RecomputeStatements {
  delete: string;
  insert: string;
}

/**
 * The statements recomputing `request` on `dialect`. Sensor averages need `request.keys`
 * (none: no statements); job counts replace the whole table.
 */
export function recomputeStatements(d: Dialect, request: RecomputeRequest, names: RecomputeNames): RecomputeStatements[] {
  const a = request.aggregate;
  const runId = stringLiteral(request.runId, d.name);
  if (a.type === "sensor_daily_averages") {
    const keys = request.keys ?? [];
    const out: RecomputeStatements[] = [];
    // Bounded statements: a long backfill touches many keys.
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      out.push(sensorStatements(d, a, keys.slice(i, i + KEYS_PER_STATEMENT), names, runId));
    }
    return out;
  }
  const select = a.type === "jobs_by_location" ? locationSelect(d, a, names) : skillSelect(d, a, names);
  const cols = a.type === "jobs_by_location" ? ["location", "postings"] : ["skill", "postings"];
  return [{
    delete: `DELETE FROM ${names.product} WHERE TRUE`,
    insert:
      `INSERT INTO ${names.product} (${[...cols, "_run_id"].map(names.quote).join(", ")})` +
      ` SELECT ${cols.map(names.quote).join(", ")}, ${runId} FROM (${select}) AS counted`,
  }];
}

export const KEYS_PER_STATEMENT = 2_000;

type SensorConfig = Extract<AggregateConfig, { type: "sensor_daily_averages" }>;

function sensorStatements(
  d: Dialect,
  a: SensorConfig,
  keys: readonly StationDay[],
  names: RecomputeNames,
  runId: string,
): RecomputeStatements {
  const q = names.quote;
  const station = `CAST(h.${q(a.stationField)} AS ${d.text})`;
  const zones = Object.keys(a.stationZones).sort();
  const zone = zones.length === 0
    ? stringLiteral(a.zone, d.name)
    : `CASE ${station} ${zones.map((s) => `WHEN ${stringLiteral(s, d.name)} THEN ${stringLiteral(a.stationZones[s], d.name)}`).join(" ")}` +
      ` ELSE ${stringLiteral(a.zone, d.name)} END`;
  const instant = `h.${q(a.timestampField)}`;
  const metric = (field: string) => `${d.tryCast(`h.${q(field)}`, d.float)}`;
  // A metric is valid when missing (NULL, or '' in a text column) or a finite number >= 0.
  const valid = (field: string) => {
    const raw = `h.${q(field)}`;
    const v = metric(field);
    return `(${raw} IS NULL OR CAST(${raw} AS ${d.text}) = '' OR (${v} IS NOT NULL AND ${d.isFinite(v)} AND ${v} >= 0))`;
  };
  const present = (field: string) => `CASE WHEN ${`h.${q(field)}`} IS NULL OR CAST(h.${q(field)} AS ${d.text}) = '' THEN NULL ELSE ${metric(field)} END`;
  const stations = [...new Set(keys.map((k) => k.station_id))].sort().map((s) => stringLiteral(s, d.name));
  const readings =
    `SELECT station, day, co, pm25, ok, ROW_NUMBER() OVER (PARTITION BY station, instant ORDER BY tie) AS rn FROM (` +
    `SELECT ${station} AS station, ${instant} AS instant, ${d.localDay(instant, zone)} AS day,` +
    ` CAST(h.${q("_payload_hash")} AS ${d.text}) AS tie,` +
    ` ${present(a.coField)} AS co, ${present(a.pm25Field)} AS pm25,` +
    ` (${valid(a.coField)} AND ${valid(a.pm25Field)}) AS ok` +
    ` FROM ${names.hub} AS h WHERE ${station} IN (${stations.join(", ")}) AND ${instant} IS NOT NULL) AS keyed`;
  const inKeys = (alias: string) => `EXISTS (SELECT 1 FROM ${d.keysRelation(keys)} WHERE k.station_id = ${alias}.station_id AND k.day = ${alias}.day)`;
  const select =
    `SELECT station AS station_id, day, ${d.mean("co")} AS co_avg, ${d.mean("pm25")} AS pm25_avg, COUNT(*) AS readings` +
    ` FROM (${readings}) AS r WHERE rn = 1 AND ok AND station IS NOT NULL AND station <> '' GROUP BY station, day`;
  const cols = ["station_id", "day", "co_avg", "pm25_avg", "readings", "_run_id"];
  return {
    delete: `DELETE FROM ${names.product} AS t WHERE ${inKeys("t")}`,
    insert:
      `INSERT INTO ${names.product} (${cols.map(q).join(", ")})` +
      ` SELECT station_id, day, co_avg, pm25_avg, readings, ${runId} FROM (${select}) AS s WHERE ${inKeys("s")}`,
  };
}

/**
 * One row per posting: its id as the pure function reads it (NULL: no id, each such posting
 * its own) and a posting id `pid`; duplicates by id reduced to the smallest payload hash.
 */
function postings(d: Dialect, idField: string, valueField: string, names: RecomputeNames): string {
  const q = names.quote;
  const raw = `h.${q(idField)}`;
  const idText = `CASE WHEN ${raw} IS NULL OR CAST(${raw} AS ${d.text}) = '' THEN NULL ELSE ${jsTrim(d, `CAST(${raw} AS ${d.text})`)} END`;
  const inner =
    `SELECT ${idText} AS id_text, CAST(h.${q(valueField)} AS ${d.text}) AS value, CAST(h.${q("_payload_hash")} AS ${d.text}) AS tie,` +
    ` ROW_NUMBER() OVER () AS seq FROM ${names.hub} AS h`;
  return `SELECT value, CASE WHEN id_text IS NULL THEN CONCAT('n:', CAST(seq AS ${d.text})) ELSE CONCAT('i:', id_text) END AS pid FROM (` +
    `SELECT id_text, value, seq, ROW_NUMBER() OVER (PARTITION BY id_text ORDER BY tie) AS rn FROM (${inner}) AS i) AS p WHERE id_text IS NULL OR rn = 1`;
}

function locationSelect(d: Dialect, a: { idField: string; locationField: string }, names: RecomputeNames): string {
  const cities =
    `SELECT DISTINCT pid, ${collapse(d, "piece")} AS city FROM (${postings(d, a.idField, a.locationField, names)}) AS p` +
    ` ${d.unnestJoin(`REGEXP_EXTRACT_ALL(value, ${d.regex("[^,/]+")})`, "piece")}`;
  return `SELECT city AS location, COUNT(*) AS postings FROM (${cities}) AS c WHERE city <> '' GROUP BY city`;
}

function skillSelect(d: Dialect, a: { idField: string; skillsField: string }, names: RecomputeNames): string {
  const spellings =
    `SELECT pid, ${collapse(d, "piece")} AS spelling FROM (${postings(d, a.idField, a.skillsField, names)}) AS p` +
    ` ${d.unnestJoin(`REGEXP_EXTRACT_ALL(value, ${d.regex("[^|,]+")})`, "piece")}`;
  const s = `SELECT pid, spelling, LOWER(spelling) AS skill_key FROM (${spellings}) AS sp WHERE spelling <> ''`;
  // Display: the most frequent spelling, ties to the smallest (`displaySpelling`).
  return `SELECT best.spelling AS skill, counts.postings AS postings FROM` +
    ` (SELECT skill_key, COUNT(DISTINCT pid) AS postings FROM (${s}) AS s1 GROUP BY skill_key) AS counts JOIN` +
    ` (SELECT skill_key, spelling FROM (SELECT skill_key, spelling, ROW_NUMBER() OVER (PARTITION BY skill_key ORDER BY n DESC, spelling) AS rn` +
    ` FROM (SELECT skill_key, spelling, COUNT(*) AS n FROM (${s}) AS s2 GROUP BY skill_key, spelling) AS tallied) AS ranked WHERE rn = 1) AS best` +
    ` ON best.skill_key = counts.skill_key`;
}
