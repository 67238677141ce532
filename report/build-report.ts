import * as fs from "fs";
import * as path from "path";
import type { SinkTarget, Warehouse } from "../model/backends";
import type { Row } from "../model/row";
import { writeJobsWorkbook, type LocationCount, type SkillCount } from "../sinks/workbook";
import { barChart, groupedBarChart, timeLineChart, type LineSeries } from "./charts";
import { FORECAST_TABLE, loadMstlForecaster, sensorForecast, type Forecaster } from "./forecast";
import { HOUR_MS, hourlySeries, type HourlyReading } from "./hourly-series";
import { htmlTable, reportPage, type ReportFigure, type ReportSection } from "./report-page";
import { reportQueries, type Layer, type ReportQueries, type SensorSource } from "./report-queries";
import { readRunManifests, runLayers } from "./run-history";

/** What `api2lake report` needs of a warehouse: reads, and replacing the forecast table. */
export type ReportWarehouse = Pick<Warehouse, "query" | "replaceDataProduct">;

export interface ReportRequest {
  target: SinkTarget;
  /** Folder receiving `report.html` and `jobs.xlsx` (created). */
  reportOut: string;
  /** Where the forecast's hourly history lives (the airquality preset's readings by default). */
  sensors: SensorSource;
  /** Injected for tests; the MSTL forecaster by default. */
  forecaster?: Forecaster;
  now?: Date;
}

export interface ReportResult {
  html: string;
  /** Absent when the warehouse has no job counts. */
  workbook?: string;
  /** Forecast rows written to `dataproducts.sensor_forecast`, or why none were. */
  forecast: { rows: number } | { skipped: string };
  /** Figures drawn and figures with a note instead. */
  charts: number;
  missing: string[];
}

/** Hours of history drawn before the forecast points. */
const HISTORY_SHOWN_HOURS = 48;

/**
 * Recomputes the forecast from the hub, writes it to `dataproducts.sensor_forecast` (replaced
 * whole), then writes the HTML report and the jobs workbook from the warehouse and run manifests.
 * @throws the warehouse's error when a query fails (a missing table is not a failure: the
 *   section shows why it is empty).
 */
export async function buildReport(warehouse: ReportWarehouse, request: ReportRequest): Promise<ReportResult> {
  const q = reportQueries(request.target);
  const now = request.now ?? new Date();
  const tables = await listTables(warehouse, q);
  const has = (layer: Layer, name: string) => tables[layer].has(name);

  let forecast: ReportResult["forecast"];
  let history: HourlyReading[] = [];
  if (!has("hub", request.sensors.hubTable)) {
    forecast = { skipped: `no hub table ${request.sensors.hubTable}` };
  } else {
    history = (await warehouse.query(q.hourlyReadings(request.sensors))).map(toReading);
    const forecaster = request.forecaster ?? (await loadMstlForecaster());
    const rows = sensorForecast(history, forecaster, now);
    await warehouse.replaceDataProduct(FORECAST_TABLE, rows);
    tables.dataproducts.add(FORECAST_TABLE.name);
    forecast = { rows: rows.length };
  }

  const sections: ReportSection[] = [];
  sections.push(await airQualitySection(warehouse, q, has("dataproducts", "sensor_daily_averages")));
  sections.push(await forecastSection(warehouse, q, history, request.sensors, has("dataproducts", FORECAST_TABLE.name)));
  const jobs = await jobsSection(warehouse, q, has("dataproducts", "jobs_by_location"), has("dataproducts", "jobs_by_skill"));
  sections.push(jobs.section);
  sections.push(await runsSection(warehouse, q, request.target, [...tables.lake]));

  await fs.promises.mkdir(request.reportOut, { recursive: true });
  const where = request.target.kind === "local"
    ? `DuckDB ${path.join(request.target.out, "warehouse.duckdb")}`
    : `BigQuery project ${request.target.project}`;
  const html = reportPage("api2lake report", [`Generated ${now.toISOString()} from ${where}.`], sections);
  const htmlFile = path.join(request.reportOut, "report.html");
  await writeAtomically(htmlFile, html);
  let workbook: string | undefined;
  if (jobs.counts) {
    workbook = path.join(request.reportOut, "jobs.xlsx");
    await writeJobsWorkbook(workbook, jobs.counts.byLocation, jobs.counts.bySkill);
  }
  const figures = sections.flatMap((s) => s.figures);
  return {
    html: htmlFile,
    workbook: workbook,
    forecast: forecast,
    charts: figures.filter((f) => f.chart).length,
    missing: figures.filter((f) => !f.chart).map((f) => f.id),
  };
}

async function listTables(warehouse: ReportWarehouse, q: ReportQueries): Promise<Record<Layer, Set<string>>> {
  const out = { lake: new Set<string>(), hub: new Set<string>(), dataproducts: new Set<string>() };
  for (const layer of ["lake", "hub", "dataproducts"] as const) {
    // A dataset that does not exist yet (BigQuery) has no tables.
    const rows = await warehouse.query(q.tablesOf(layer)).catch(() => [] as Row[]);
    for (const r of rows) out[layer].add(String(r.table_name));
  }
  return out;
}

function toReading(r: Row): HourlyReading {
  return { station_id: String(r.station_id), timestamp: String(r.timestamp), co: r.co, pm25: r.pm25 };
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function airQualitySection(warehouse: ReportWarehouse, q: ReportQueries, present: boolean): Promise<ReportSection> {
  const missing = "no dataproducts.sensor_daily_averages yet (run the airquality preset)";
  const figures: ReportFigure[] = [];
  const rows = present ? await warehouse.query(q.dailyAverages) : [];
  const metrics = [
    { id: "daily-co", col: "co_avg", title: "Daily mean CO per station" },
    { id: "daily-pm25", col: "pm25_avg", title: "Daily mean PM2.5 per station" },
  ];
  for (const metric of metrics) {
    const byStation = new Map<string, [string, number | null][]>();
    for (const r of rows) {
      const list = byStation.get(String(r.station_id)) ?? [];
      list.push([String(r.day).slice(0, 10), num(r[metric.col])]);
      byStation.set(String(r.station_id), list);
    }
    const series: LineSeries[] = [...byStation.entries()].map((e) => ({ name: e[0], points: e[1] }));
    figures.push({
      id: metric.id,
      title: metric.title,
      source: q.dailyAverages,
      chart: rows.length ? timeLineChart(metric.col, series) : undefined,
      note: present ? "the table is empty" : missing,
    });
  }
  return { title: "Air quality", intro: "Daily means per station over the station's local calendar day.", figures: figures };
}

async function forecastSection(
  warehouse: ReportWarehouse,
  q: ReportQueries,
  history: readonly HourlyReading[],
  sensors: SensorSource,
  present: boolean,
): Promise<ReportSection> {
  const rows = present ? await warehouse.query(q.forecast) : [];
  const series = hourlySeries(history);
  const figures: ReportFigure[] = [];
  const metrics = [
    { id: "forecast-co", key: "co" as const, title: "CO: last 48 hours and the 2-hour forecast" },
    { id: "forecast-pm25", key: "pm25" as const, title: "PM2.5: last 48 hours and the 2-hour forecast" },
  ];
  for (const metric of metrics) {
    const lines: LineSeries[] = [];
    const backtests: string[][] = [];
    for (const entry of series) {
      const predicted = rows.filter((r) => r.station_id === entry[0] && r.metric === metric.key);
      if (predicted.length === 0) continue;
      const s = entry[1][metric.key];
      const first = Math.max(0, s.values.length - HISTORY_SHOWN_HOURS);
      const shown: [string, number | null][] = s.values
        .slice(first)
        .map((v, i) => [new Date(s.startMs + (first + i) * HOUR_MS).toISOString(), v]);
      lines.push({ name: `${entry[0]} measured`, points: shown });
      const ahead = predicted.map((r) => [String(r.hour), Number(r.value)] as [string, number]);
      lines.push({ name: `${entry[0]} forecast`, dashed: true, points: ahead });
      const p = predicted[0];
      const mae = num(p.backtest_mae);
      const naive = num(p.naive_mae);
      backtests.push([
        entry[0],
        ...predicted.map((r) => `${String(r.hour).slice(0, 16).replace("T", " ")}Z: ${Number(r.value).toFixed(3)}`),
        mae === null ? "-" : mae.toFixed(4),
        naive === null ? "-" : naive.toFixed(4),
        mae === null || naive === null || naive === 0 ? "-" : `${(((naive - mae) / naive) * 100).toFixed(1)}%`,
        String(p.backtest_points),
      ]);
    }
    figures.push({
      id: metric.id,
      title: metric.title,
      source: `${q.forecast};\n-- history:\n${q.hourlyReadings(sensors)}`,
      chart: lines.length ? timeLineChart(metric.key, lines) : undefined,
      note: present ? "no station has 72 hours of history" : "no forecast: the hub has no readings",
      extraHtml: backtests.length
        ? htmlTable(["station", "+1 h", "+2 h", "MAE (model)", "MAE (naive last value)", "better by", "backtest points"], backtests)
        : undefined,
    });
  }
  return {
    title: "Forecast: the next two hours",
    intro: `${rows.length ? String(rows[0].method) : "MSTL(24h) + AutoETS"} per station and metric, fitted on the hourly history;` +
      " backtest: rolling origin over the last 48 hours, mean absolute error of the model and of the naive last-value forecast.",
    figures: figures,
  };
}

async function jobsSection(
  warehouse: ReportWarehouse,
  q: ReportQueries,
  hasLocations: boolean,
  hasSkills: boolean,
): Promise<{ section: ReportSection; counts?: { byLocation: LocationCount[]; bySkill: SkillCount[] } }> {
  const cities = hasLocations ? await warehouse.query(q.topCities) : [];
  const skills = hasSkills ? await warehouse.query(q.topTechnologies) : [];
  const missing = "no job counts yet (run the jobs preset)";
  const section: ReportSection = {
    title: "Jobs",
    figures: [
      {
        id: "top-cities", title: "Top cities by postings", source: q.topCities,
        chart: cities.length
          ? barChart("postings", cities.map((r) => String(r.location)), cities.map((r) => Number(r.postings)))
          : undefined,
        note: missing,
      },
      {
        id: "top-technologies", title: "Top technologies by postings", source: q.topTechnologies,
        chart: skills.length
          ? barChart("postings", skills.map((r) => String(r.skill)), skills.map((r) => Number(r.postings)))
          : undefined,
        note: missing,
      },
    ],
  };
  if (!hasLocations && !hasSkills) return { section: section };
  // The workbook holds every row, not the top N.
  const all = async (present: boolean, sql: string) => (present ? await warehouse.query(sql) : []);
  const byLocation = (await all(hasLocations, `SELECT location, postings FROM ${q.table("dataproducts", "jobs_by_location")}`))
    .map((r) => ({ location: String(r.location), postings: Number(r.postings) }));
  const bySkill = (await all(hasSkills, `SELECT skill, postings FROM ${q.table("dataproducts", "jobs_by_skill")}`))
    .map((r) => ({ skill: String(r.skill), postings: Number(r.postings) }));
  return { section: section, counts: { byLocation: byLocation, bySkill: bySkill } };
}

async function runsSection(
  warehouse: ReportWarehouse,
  q: ReportQueries,
  target: SinkTarget,
  lakeTables: readonly string[],
): Promise<ReportSection> {
  const history = await readRunManifests(target);
  const layers = history.manifests.map(runLayers);
  const runsSource = target.kind === "local"
    ? `${path.join(target.out, "runs")}/*.json (run manifests)`
    : `gs://${target.bucket}/runs/*.json (run manifests)`;
  const errorTables = lakeTables.filter((t) => t.endsWith("_error_records")).sort();
  const deadSql = errorTables.map((t) => q.deadLetters(t.slice(0, -"_error_records".length))).join("\nUNION ALL\n");
  const topReasons = `SELECT entity, stage, error, letters FROM (${deadSql}) AS d ORDER BY letters DESC, entity, stage, error LIMIT 20`;
  const letters = deadSql ? await warehouse.query(topReasons) : [];
  const reason = (r: Row) => `${String(r.entity)} ${String(r.stage)}: ${String(r.error)}`;
  return {
    title: "Runs",
    intro: history.unreadable.length ? `Unreadable manifests: ${history.unreadable.join(", ")}` : undefined,
    figures: [
      {
        id: "run-history", title: "Records per layer per run", source: runsSource,
        chart: layers.length
          ? groupedBarChart(layers.map((l) => `${l.run_id} (${l.status})`), [
              { name: "raw (fetched)", values: layers.map((l) => l.raw) },
              { name: "hub (kept)", values: layers.map((l) => l.hub) },
              { name: "dead letters", values: layers.map((l) => l.deadletter) },
              { name: "dataproducts rows", values: layers.map((l) => l.dataproducts) },
            ])
          : undefined,
        note: "no run manifests yet",
      },
      {
        id: "dead-letters", title: "Dead letters by reason (top 20)", source: deadSql ? topReasons : "(no lake.*_error_records tables)",
        chart: letters.length ? barChart("letters", letters.map(reason), letters.map((r) => Number(r.letters))) : undefined,
        note: "no dead letters",
      },
    ],
  };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, text, "utf8");
  await fs.promises.rename(tmp, file);
}
