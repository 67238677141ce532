import * as fs from "fs";
import * as path from "path";
import type { ParsedOptions } from "./options";
import type { SourceConfig } from "../model/source-config";
import { openWarehouse } from "../sinks/open-backends";
import { loadSourceConfig } from "../sources/rest/config-loader";
import { buildReport } from "../report/build-report";
import type { SensorSource } from "../report/report-queries";
import { resolveConfigPath } from "./presets";
import { sinkTarget } from "./sink-target";
import { describeHolder, readLockHolder } from "./out-lock";
import { UsageError } from "./usage-error";

/**
 * `api2lake report`: recomputes `dataproducts.sensor_forecast` from the hub, then writes
 * `<reportOut>/report.html` (self-contained) and `<reportOut>/jobs.xlsx` from the warehouse
 * (DuckDB under --out, or BigQuery with --sink gcp) and the run manifests. The forecast reads
 * the first entity with a `sensor_daily_averages` aggregate of --config (default: the
 * airquality preset). Exit 0 when written; 2 on a usage error (e.g. the warehouse is missing or
 * held by a run).
 */
export async function reportCommand(options: ParsedOptions): Promise<number> {
  const target = sinkTarget(options);
  const reportOut = path.resolve(options.reportOut || (target.kind === "local" ? path.join(target.out, "report") : "./report"));
  const config = resolveConfigPath(options.config || "airquality");
  const sensors = sensorSource(loadSourceConfig(config, { env: reportEnv(config) }));
  if (target.kind === "local" && !fs.existsSync(path.join(target.out, "warehouse.duckdb")))
    throw new UsageError(`no warehouse at ${path.join(target.out, "warehouse.duckdb")} (check --out; a run creates it)`);
  let warehouse;
  try {
    warehouse = await openWarehouse(target);
  } catch (error) {
    const holder = target.kind === "local" ? readLockHolder(target.out) : undefined;
    const busy = holder ? `: it is in use by ${describeHolder(holder)}, try again when it has finished` : "";
    throw new UsageError(`cannot open the warehouse (${(error as Error).message.split("\n")[0]})${busy}`);
  }
  try {
    const result = await buildReport(warehouse, { target: target, reportOut: reportOut, sensors: sensors });
    console.log(`report: ${result.html} (${result.charts} charts${result.missing.length ? `; without data: ${result.missing.join(", ")}` : ""})`);
    if (result.workbook) console.log(`jobs workbook: ${result.workbook}`);
    if ("rows" in result.forecast) console.log(`forecast: ${result.forecast.rows} rows in dataproducts.sensor_forecast`);
    else console.log(`forecast: skipped (${result.forecast.skipped})`);
    return 0;
  } finally {
    await warehouse.close();
  }
}

/**
 * The report reads only a config's aggregate declarations, never its API: a `${VAR}` (without a
 * default) that the environment lacks - the API's URL, a secret - reads as a placeholder.
 */
function reportEnv(file: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const m of fs.readFileSync(file, "utf8").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1]] ??= "http://unset.invalid/";
  return env;
}

/** The hub table and columns of the first `sensor_daily_averages` aggregate of a source config. */
export function sensorSource(source: SourceConfig): SensorSource {
  for (const name of Object.keys(source.entities)) {
    for (const a of source.entities[name].aggregates) {
      if (a.type === "sensor_daily_averages")
        return { hubTable: name, stationField: a.stationField, timestampField: a.timestampField, coField: a.coField, pm25Field: a.pm25Field };
    }
  }
  throw new UsageError(`--config ${source.name}: no entity has a sensor_daily_averages aggregate (the forecast reads its hub table)`);
}
