import * as fs from "fs";
import * as path from "path";

/**
 * `--entities`: a comma list (`customers,sales`), `ALL` (or nothing: every entity), or the
 * path of a file listing names - plain text (one per line, `#` comments), CSV (first column)
 * or an .xlsx workbook (first column of the first sheet). In CSV and xlsx an optional header
 * row is recognised by its cell: `entity`, `entities`, `name` or `table`.
 */

const HEADER_CELLS = new Set(["entity", "entities", "name", "names", "table", "tables"]);

export async function selectEntities(known: readonly string[], spec: string | readonly string[] | undefined): Promise<string[]> {
  // A typed `--entities` is a list; a single item may be ALL or a file name.
  const value = (typeof spec === "string" ? spec : (spec ?? []).join(",")).trim();
  if (value === "" || value.toUpperCase() === "ALL") return known.slice();
  const fromFile = looksLikeFile(value);
  const names = fromFile ? await readNames(value) : value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const where = fromFile ? ` in ${value}` : "";
  if (names.length === 0) throw new Error(`--entities: no entity names${where}`);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    const list = unknown.map((n) => `"${n}"`).join(", ");
    throw new Error(`--entities: unknown entit${unknown.length > 1 ? "ies" : "y"} ${list}${where}; known: ${known.join(", ")}`);
  }
  return names.filter((n, i) => names.indexOf(n) === i);
}

function looksLikeFile(value: string): boolean {
  return /\.(txt|csv|xlsx|list)$/i.test(value) || value.includes("/") || value.includes(path.sep) || (fs.existsSync(value) && fs.statSync(value).isFile());
}

async function readNames(file: string): Promise<string[]> {
  if (!fs.existsSync(file)) throw new Error(`--entities: file ${file} does not exist`);
  const ext = path.extname(file).toLowerCase();
  if (ext === ".xlsx") return dropHeader(await firstColumnOfXlsx(file));
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  if (ext === ".csv") return dropHeader(text.split(/\r?\n/).map(firstCsvCell));
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

function dropHeader(cells: string[]): string[] {
  const names = cells.map((c) => c.trim()).filter((c) => c !== "");
  if (names.length && HEADER_CELLS.has(names[0].toLowerCase())) return names.slice(1);
  return names;
}

/** The first field of a CSV line (RFC 4180 quotes allowed). */
export function firstCsvCell(line: string): string {
  const trimmed = line.trimStart();
  if (!trimmed.startsWith('"')) return trimmed.split(/[,;\t]/)[0];
  let out = "";
  for (let i = 1; i < trimmed.length; i++) {
    if (trimmed[i] === '"') {
      if (trimmed[i + 1] === '"') {
        out += '"';
        i++;
      } else break;
    } else out += trimmed[i];
  }
  return out;
}

async function firstColumnOfXlsx(file: string): Promise<string[]> {
  // exceljs takes ~0.5 s to load: required only when an .xlsx list is read.
  const workbook = new (require("exceljs") as typeof import("exceljs")).Workbook();
  try {
    await workbook.xlsx.readFile(file);
  } catch (error) {
    throw new Error(`--entities: ${file} is not a readable .xlsx workbook (${(error as Error).message})`);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new Error(`--entities: ${file} has no sheet`);
  const cells: string[] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    cells.push(row.getCell(1).text ?? "");
  });
  return cells;
}
