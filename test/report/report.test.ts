import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as ExcelJS from "exceljs";
import { chromium } from "playwright-core";
import { openDuckDbReadOnly } from "../../sinks/warehouse-duckdb-read-only";
import { startDemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(ROOT, "bin", "api2lake.js");
const CHROMIUM = "/usr/bin/chromium";
/** Screenshots kept with the test output. */
const OUTPUT = path.join(ROOT, "dist", "test-output");
const CHARTS = ["daily-co", "daily-pm25", "forecast-co", "forecast-pm25", "top-cities", "top-technologies", "run-history", "dead-letters"];

/** Debian's chromium, installed by the project's script when missing; still missing is a failure. */
function ensureChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    const got = spawnSync("sh", [path.join(ROOT, "scripts", "install-chromium.sh")], { encoding: "utf8", timeout: 600_000 });
    assert.equal(got.status, 0, `scripts/install-chromium.sh failed: ${got.stderr}`);
  }
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing after scripts/install-chromium.sh`);
}

async function sql(out: string, query: string): Promise<Record<string, unknown>[]> {
  const warehouse = await openDuckDbReadOnly(path.join(out, "warehouse.duckdb"));
  try {
    return await warehouse.query(query);
  } finally {
    warehouse.close();
  }
}

function sheetRows(workbook: ExcelJS.Workbook, name: string): unknown[][] {
  const rows: unknown[][] = [];
  workbook.getWorksheet(name)!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

test("`api2lake report` on a demo run: every chart drawn in headless Chromium, the workbook equals the warehouse, the forecast beats naive", async () => {
  ensureChromium();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-report-"));
  const demo = spawnSync(process.execPath, [BIN, "demo", "--out", out], { encoding: "utf8", timeout: 300_000 });
  assert.equal(demo.status, 0, `demo exited ${demo.status}: ${demo.stderr}`);
  // The demo lands the days of DEMO_RANGE; the forecast's backtest wants the demo API's two weeks of
  // hourly readings: a backfill of the range lands exactly the missing days (same seed, same data).
  const api = await startDemoApi({ port: 0 });
  Object.assign(process.env, demoEnvironment(api.url));
  try {
    const more = await executeRun({ sources: [loadPreset("airquality")], entities: "ALL", from: "2024-01-01", to: "2024-01-14", options: { out: out, runner: "direct" } });
    assert.equal(more.status, "succeeded", more.errors.join("; "));
  } finally {
    await api.close();
  }
  const reportOut = path.join(out, "my-report");
  const report = spawnSync(process.execPath, [BIN, "report", "--out", out, "--reportOut", reportOut], { encoding: "utf8", timeout: 300_000 });
  assert.equal(report.status, 0, `report exited ${report.status}: ${report.stderr}`);
  assert.match(report.stdout, /\(8 charts\)/);
  assert.match(report.stdout, /forecast: 8 rows in dataproducts\.sensor_forecast/);

  // ---- the forecast: 2 preset stations x 2 metrics x 2 hours, each beating the naive last value
  const forecast = await sql(out, "SELECT station_id, metric, hour, horizon_h, value, backtest_mae, naive_mae, backtest_points FROM dataproducts.sensor_forecast ORDER BY station_id, metric, horizon_h");
  assert.deepEqual(forecast.map((r) => `${r.station_id}/${r.metric}/${r.horizon_h}`), [
    "283164601/co/1", "283164601/co/2", "283164601/pm25/1", "283164601/pm25/2",
    "283181971/co/1", "283181971/co/2", "283181971/pm25/1", "283181971/pm25/2",
  ]);
  const lastHours = await sql(out, "SELECT CAST(station_id AS VARCHAR) AS station_id, max(timestamp) AS last FROM hub.readings GROUP BY 1");
  for (const r of forecast) {
    const last = Date.parse(String(lastHours.find((l) => l.station_id === r.station_id)!.last));
    assert.equal(Date.parse(String(r.hour)), last + Number(r.horizon_h) * 3_600_000, `${r.station_id} forecasts the hours after its last reading`);
    assert.ok(Number(r.backtest_points) > 80);
    assert.ok(Number(r.backtest_mae) < Number(r.naive_mae), `${r.station_id}/${r.metric}: model MAE ${r.backtest_mae} is not below naive ${r.naive_mae}`);
  }

  // ---- the workbook, read back, equals the warehouse's job counts (postings desc, then name)
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path.join(reportOut, "jobs.xlsx"));
  assert.deepEqual(workbook.worksheets.map((w) => w.name), ["jobs locations", "languages jobs"]);
  const byOrder = (a: unknown[], b: unknown[]) => Number(b[1]) - Number(a[1]) || (String(a[0]) < String(b[0]) ? -1 : 1);
  const locations = (await sql(out, "SELECT location, postings FROM dataproducts.jobs_by_location")).map((r) => [r.location, Number(r.postings)]).sort(byOrder);
  const skills = (await sql(out, "SELECT skill, postings FROM dataproducts.jobs_by_skill")).map((r) => [r.skill, Number(r.postings)]).sort(byOrder);
  assert.ok(locations.length > 5 && skills.length > 5);
  assert.deepEqual(sheetRows(workbook, "jobs locations"), [["location", "postings"], ...locations]);
  assert.deepEqual(sheetRows(workbook, "languages jobs"), [["skill", "postings"], ...skills]);
  assert.equal(workbook.getWorksheet("jobs locations")!.getRow(1).font?.bold, true);

  // ---- the page in headless Chromium, offline: every chart's SVG drew each of its data points
  const html = path.join(reportOut, "report.html");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const requested: string[] = [];
    page.on("request", (r) => { if (!r.url().startsWith("file://")) requested.push(r.url()); });
    await page.goto("file://" + html, { waitUntil: "load" });
    const drawn = await page.$$eval("figure.chart", (figures) => figures.map((f) => {
      const svg = f.querySelector("svg");
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      const marks = svg ? [...svg.querySelectorAll("[ecmeta_ssr_type=chart][ecmeta_data_index]")] as SVGGraphicsElement[] : [];
      return {
        id: f.getAttribute("data-chart"),
        expected: Number(f.getAttribute("data-points")),
        svgArea: box.width * box.height,
        marks: marks.length,
        visible: marks.filter((m) => { const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length,
        query: f.querySelector("details pre")?.textContent ?? "",
      };
    }));
    assert.deepEqual(drawn.map((d) => d.id), CHARTS);
    for (const d of drawn) {
      assert.ok(d.svgArea > 0, `${d.id}: empty SVG`);
      assert.ok(d.expected > 0, `${d.id}: no data points`);
      assert.equal(d.marks, d.expected, `${d.id}: ${d.marks} marks drawn for ${d.expected} data points`);
      assert.ok(d.visible > 0, `${d.id}: no mark is visible`);
      assert.ok(d.query.length > 10, `${d.id}: no query shown`);
    }
    // both backtest figures are on the page
    const text = await page.textContent("body");
    const mae = forecast.find((r) => r.metric === "co")!;
    assert.ok(text!.includes(Number(mae.backtest_mae).toFixed(4)) && text!.includes(Number(mae.naive_mae).toFixed(4)), "the backtest MAEs are not in the report");
    assert.deepEqual(requested, [], "the report asked the network");
    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, "report.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
