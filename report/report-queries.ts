import type { SinkTarget } from "../model/backends";

/**
 * The SQL behind each chart of the report, for the warehouse a `SinkTarget` names: DuckDB
 * (`lake.x`, `hub.x`, `dataproducts.x`) or BigQuery (`` `project.<prefix>lake.x` ``). The report
 * prints each query under its chart, so what is drawn can be re-run with `api2lake query`.
 */

export type Layer = "lake" | "hub" | "dataproducts";

/** Where the forecast reads the hourly readings: a hub table and its columns. */
export interface SensorSource {
  hubTable: string;
  stationField: string;
  timestampField: string;
  coField: string;
  pm25Field: string;
}

export interface ReportQueries {
  /** A quoted, qualified table name. */
  table(layer: Layer, name: string): string;
  /** `table_name` of every table of a layer. */
  tablesOf(layer: Layer): string;
  dailyAverages: string;
  topCities: string;
  topTechnologies: string;
  /** `entity, stage, error, letters` of one `lake.<entity>_error_records` table. */
  deadLetters(entity: string): string;
  /** `station_id, timestamp, co, pm25` of every hub reading. */
  hourlyReadings(source: SensorSource): string;
  forecast: string;
}

/** How many cities / technologies the bar charts show. */
export const TOP_N = 15;

export function reportQueries(target: SinkTarget): ReportQueries {
  const bq = target.kind === "gcp";
  const quote = (id: string) => (bq ? `\`${id.replace(/`/g, "")}\`` : `"${id.replace(/"/g, '""')}"`);
  const dataset = (layer: Layer) => (bq ? `${target.datasetPrefix}${layer}` : layer);
  const table = (layer: Layer, name: string) =>
    bq ? `\`${target.project}.${dataset(layer)}.${name.replace(/`/g, "")}\`` : `${layer}.${quote(name)}`;
  const text = bq ? "STRING" : "VARCHAR";
  const literal = (s: string) => `'${s.replace(/\\/g, bq ? "\\\\" : "\\").replace(/'/g, bq ? "\\'" : "''")}'`;
  return {
    table: table,
    tablesOf: (layer) =>
      bq
        ? `SELECT table_name FROM \`${target.project}.${dataset(layer)}\`.INFORMATION_SCHEMA.TABLES ORDER BY table_name`
        : `SELECT table_name FROM information_schema.tables WHERE table_schema = '${layer}' ORDER BY table_name`,
    dailyAverages:
      `SELECT station_id, CAST(day AS ${text}) AS day, co_avg, pm25_avg, readings` +
      ` FROM ${table("dataproducts", "sensor_daily_averages")} ORDER BY station_id, day`,
    topCities:
      `SELECT location, postings FROM ${table("dataproducts", "jobs_by_location")}` +
      ` ORDER BY postings DESC, location LIMIT ${TOP_N}`,
    topTechnologies:
      `SELECT skill, postings FROM ${table("dataproducts", "jobs_by_skill")}` +
      ` ORDER BY postings DESC, skill LIMIT ${TOP_N}`,
    deadLetters: (entity) =>
      `SELECT ${literal(entity)} AS entity, stage, error, COUNT(*) AS letters` +
      ` FROM ${table("lake", `${entity}_error_records`)} GROUP BY stage, error`,
    hourlyReadings: (s) =>
      `SELECT CAST(${quote(s.stationField)} AS ${text}) AS station_id, ${quote(s.timestampField)} AS timestamp,` +
      ` ${quote(s.coField)} AS co, ${quote(s.pm25Field)} AS pm25 FROM ${table("hub", s.hubTable)}` +
      ` ORDER BY station_id, timestamp`,
    forecast:
      `SELECT station_id, metric, hour, horizon_h, value, backtest_mae, naive_mae, backtest_points, history_hours, method` +
      ` FROM ${table("dataproducts", "sensor_forecast")} ORDER BY station_id, metric, horizon_h`,
  };
}
