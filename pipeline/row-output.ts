import { writeToString } from "@fast-csv/format";
import type { Row } from "../model/row";

/**
 * Rows as the `query` and `tables` commands print them: `table` (aligned columns with a header
 * and a row count, for a terminal), `jsonl` (one JSON object per line, for pipes) or `csv` (RFC 4180
 * through @fast-csv/format, a header line first). Column names stay as SQL gave them
 * (`count_star()`); values keep their meaning: BIGINTs print exactly (as JSON numbers when safe, else
 * as strings), dates as ISO 8601, nested values as JSON, NULL as `null` in the table and empty in CSV.
 */
export type RowFormat = "table" | "jsonl" | "csv";

/** `--format`, else a table on a terminal and JSON lines elsewhere (scripts keep parsing JSON). */
export function chooseFormat(given: string | undefined, isTTY: boolean): RowFormat {
  if (given === "table" || given === "jsonl" || given === "csv") return given;
  return isTTY ? "table" : "jsonl";
}

/** A value for JSON: a BIGINT outside the safe integer range becomes its exact decimal string. */
function jsonValue(value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** A value as one line of text (table cells, CSV fields); `undefined` for NULL. */
export function cellText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_k, v) => jsonValue(v));
}

/** The columns of `rows`, in first-seen order. */
function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

/** Longest cell shown in a table; longer ones end with `…` (CSV and JSON lines keep every character). */
const MAX_CELL = 60;

/**
 * An aligned table: header, a rule, one line per row (numbers right-aligned, text left-aligned,
 * control characters shown as spaces), then `(N rows)`.
 */
export function formatTable(rows: readonly Row[]): string {
  const columns = columnsOf(rows);
  if (!columns.length) return `(${rows.length} rows)`;
  const cells = rows.map((row) => columns.map((c) => {
    const text = cellText(row[c]);
    if (text === undefined) return "null";
    const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ");
    return flat.length > MAX_CELL ? flat.slice(0, MAX_CELL - 1) + "…" : flat;
  }));
  const isNumber = (v: unknown) => v === null || v === undefined || typeof v === "number" || typeof v === "bigint";
  const numeric = columns.map((c) => rows.length > 0 && rows.every((row) => isNumber(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((line) => line[i].length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const lines = [columns.map((c, i) => pad(c, i)).join("  ").trimEnd(), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const line of cells) lines.push(line.map((text, i) => pad(text, i)).join("  ").trimEnd());
  lines.push(`(${rows.length} row${rows.length === 1 ? "" : "s"})`);
  return lines.join("\n");
}

/** Rows in `format`, ending with a newline (nothing at all for no rows in jsonl). */
export async function formatRows(rows: readonly Row[], format: RowFormat): Promise<string> {
  if (format === "table") return formatTable(rows) + "\n";
  if (format === "jsonl") return rows.map((row) => JSON.stringify(row, (_k, v) => jsonValue(v)) + "\n").join("");
  const columns = columnsOf(rows);
  const records = rows.map((row) => columns.map((c) => cellText(row[c]) ?? ""));
  return (await writeToString([columns, ...records], { headers: false })) + "\n";
}
