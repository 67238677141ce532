import { test } from "node:test";
import * as assert from "node:assert/strict";
import { runLayers } from "../../report/run-history";
import { reportQueries } from "../../report/report-queries";
import { escapeHtml, reportPage } from "../../report/report-page";
import { barChart } from "../../report/charts";
import type { RunManifest } from "../../pipeline/manifest";

test("runLayers: records per layer summed over a manifest's entities", () => {
  const counts = (fetched: number, kept: number, parse: number, validate: number, aggregate: number) =>
    ({ fetched: fetched, kept: kept, parse_failed: parse, validate_failed: validate, normalize_failed: 1, aggregate_rejected: aggregate });
  const m = {
    run_id: "r1", status: "succeeded", started_at: "2026-11-29T10:00:00.000Z",
    entities: { a: counts(10, 7, 1, 1, 0), b: counts(5, 2, 0, 2, 1) },
    dataproducts: { sensor_daily_averages: 4, jobs_by_location: 3 },
  } as unknown as RunManifest;
  assert.deepEqual(runLayers(m), {
    run_id: "r1", status: "succeeded", started_at: "2026-11-29T10:00:00.000Z", raw: 15, hub: 9, deadletter: 7, dataproducts: 7,
  });
});

test("reportQueries: DuckDB schemas locally, prefixed BigQuery datasets with --sink gcp", () => {
  const local = reportQueries({ kind: "local", out: "/tmp/x" });
  assert.equal(local.table("dataproducts", "jobs_by_skill"), 'dataproducts."jobs_by_skill"');
  assert.match(local.deadLetters("o'brien"), /^SELECT 'o''brien' AS entity, stage, error, COUNT\(\*\) AS letters FROM lake\."o'brien_error_records"/);
  const gcp = reportQueries({ kind: "gcp", project: "acme-1", bucket: "b", datasetPrefix: "dev_", bigtableInstance: "i", location: "EU", timeoutMs: 60000 });
  assert.equal(gcp.table("dataproducts", "sensor_forecast"), "`acme-1.dev_dataproducts.sensor_forecast`");
  assert.equal(gcp.tablesOf("lake"), "SELECT table_name FROM `acme-1.dev_lake`.INFORMATION_SCHEMA.TABLES ORDER BY table_name");
  assert.match(gcp.dailyAverages, /CAST\(day AS STRING\)/);
});

test("reportPage: escaped text, no script and no external URL; a chart counts its data points", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  const chart = barChart("n", ["<b>", "b"], [3, 0]);
  assert.equal(chart.points, 2);
  const page = reportPage("t", ["m"], [{ title: "S", figures: [
    { id: "c1", title: "C", source: "SELECT '<x>'", chart: chart },
    { id: "c2", title: "D", source: "SELECT 1", note: "no data <yet>" },
  ] }]);
  assert.ok(page.includes('data-chart="c1" data-points="2"') && page.includes('<figure class="chart" data-chart="c2">'));
  assert.ok(page.includes("SELECT &#39;&lt;x&gt;&#39;") && page.includes("no data &lt;yet&gt;"));
  assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/i.test(page), "the page has a script or an external URL");
});
