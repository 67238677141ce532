import type { Chart } from "./charts";

/**
 * The report's HTML page: one self-contained file (inline CSS and SVG; no script, no external
 * URL), so it opens from a disk or a mail attachment without network access.
 */

/** A chart (or a note saying why there is none) with the query behind it. */
export interface ReportFigure {
  /** Stable id, `data-chart` on the figure (tests find charts by it). */
  id: string;
  title: string;
  /** The SQL (or the files) the chart was drawn from. */
  source: string;
  chart?: Chart;
  /** Shown instead of a chart, e.g. why the table is missing. */
  note?: string;
  /** Extra HTML under the chart (already escaped), e.g. the backtest table. */
  extraHtml?: string;
}

export interface ReportSection {
  title: string;
  intro?: string;
  figures: readonly ReportFigure[];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A table of rows (cells already formatted as text). */
export function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figureHtml(f: ReportFigure): string {
  const body = f.chart
    ? `<div class="svg">${f.chart.svg}</div>`
    : `<p class="note">${escapeHtml(f.note ?? "no data")}</p>`;
  const points = f.chart ? ` data-points="${f.chart.points}"` : "";
  return [
    `<figure class="chart" data-chart="${escapeHtml(f.id)}"${points}>`,
    `<figcaption>${escapeHtml(f.title)}</figcaption>`,
    body,
    f.extraHtml ?? "",
    `<details><summary>Query</summary><pre>${escapeHtml(f.source)}</pre></details>`,
    `</figure>`,
  ].join("\n");
}

const STYLE = `
body { font-family: sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 40px; }
figure { margin: 24px 0; } figcaption { font-weight: bold; margin-bottom: 6px; }
pre { background: #f5f5f5; padding: 8px; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } th { background: #eee; }
td:first-child, th:first-child { text-align: left; }
.note { color: #a33; } .meta { color: #666; font-size: 13px; }`;

/** The whole page. `meta` lines (escaped here) go under the title. */
export function reportPage(title: string, meta: readonly string[], sections: readonly ReportSection[]): string {
  const parts = sections.map((s) =>
    [`<section>`, `<h2>${escapeHtml(s.title)}</h2>`, s.intro ? `<p>${escapeHtml(s.intro)}</p>` : "", ...s.figures.map(figureHtml), `</section>`].join("\n"));
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    ...meta.map((m) => `<p class="meta">${escapeHtml(m)}</p>`),
    ...parts,
    "</body></html>",
    "",
  ].join("\n");
}
