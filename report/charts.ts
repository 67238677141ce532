import * as echarts from "echarts";

/**
 * Charts of the report, drawn by Apache ECharts' server-side renderer into SVG strings (no
 * browser, no canvas): the report page inlines them and needs no script or network to show
 * them. Every data point is an SVG element carrying `ecmeta_ssr_type="chart"` and
 * `ecmeta_data_index` (ECharts' SSR metadata; legend items are `ecmeta_ssr_type="legend"`), which
 * is how a test counts what was drawn.
 */

export interface Chart {
  svg: string;
  /** Data points drawn: the non-null values of every series. */
  points: number;
}

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 360;

/** A line series: `[x, y]` pairs, x an ISO 8601 instant or `YYYY-MM-DD`; a null y is a gap. */
export interface LineSeries {
  name: string;
  points: readonly (readonly [string, number | null])[];
  dashed?: boolean;
}

function render(option: Record<string, unknown>, points: number): Chart {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: "sans-serif" }, ...option });
    return { svg: chart.renderToSVGString(), points: points };
  } finally {
    chart.dispose();
  }
}

/** A line chart over time, one line per series, every point marked. */
export function timeLineChart(yName: string, series: readonly LineSeries[]): Chart {
  const points = series.reduce((n, s) => n + s.points.filter((p) => p[1] !== null).length, 0);
  return render({
    legend: { top: 0 },
    grid: { left: 60, right: 30, top: 40, bottom: 40 },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: yName },
    series: series.map((s) => ({
      name: s.name,
      type: "line",
      data: s.points.map((p) => [p[0], p[1]]),
      showSymbol: true,
      showAllSymbol: true,
      symbolSize: 5,
      connectNulls: false,
      lineStyle: s.dashed ? { type: "dashed" } : undefined,
    })),
  }, points);
}

/** A horizontal bar chart: one bar per category (first category on top). */
export function barChart(valueName: string, categories: readonly string[], values: readonly number[]): Chart {
  return render({
    // Labels get a fixed column: the server measures text with its own font metrics, not the browser's.
    grid: { left: 380, right: 60, top: 20, bottom: 40 },
    xAxis: { type: "value", name: valueName },
    yAxis: { type: "category", data: [...categories].reverse(), axisLabel: { interval: 0, width: 300, overflow: "truncate", fontSize: 11 } },
    series: [{ type: "bar", data: [...values].reverse(), label: { show: true, position: "right" } }],
  }, values.length);
}

/** Grouped vertical bars: one group per category, one bar per series. */
export function groupedBarChart(categories: readonly string[], series: readonly { name: string; values: readonly number[] }[]): Chart {
  return render({
    legend: { top: 0 },
    grid: { left: 60, right: 30, top: 40, bottom: 60 },
    xAxis: { type: "category", data: [...categories], axisLabel: { rotate: 20 } },
    yAxis: { type: "value", name: "records" },
    series: series.map((s) => ({ name: s.name, type: "bar", data: [...s.values] })),
  }, series.reduce((n, s) => n + s.values.length, 0));
}
