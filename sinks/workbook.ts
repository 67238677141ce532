import * as fs from "fs";
import * as path from "path";
import * as ExcelJS from "exceljs";
import { openDuckDbWarehouse } from "./warehouse-duckdb";

/**
 * The jobs seed's two-sheet workbook: `jobs_by_location` and `jobs_by_skill`, each with a header
 * row, sorted by postings (desc) then name (code-unit order).
 */

export interface LocationCount { location: string; postings: number }
export interface SkillCount { skill: string; postings: number }

function sorted<T extends { postings: number }>(rows: readonly T[], name: (r: T) => string): T[] {
  return [...rows].sort((a, b) => b.postings - a.postings || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

/** Writes `file` (an .xlsx), creating its folder; replaces an existing file. */
export async function writeJobsWorkbook(file: string, byLocation: readonly LocationCount[], bySkill: readonly SkillCount[]): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "api2lake";
  const locations = workbook.addWorksheet("jobs_by_location");
  locations.columns = [
    { header: "location", key: "location", width: 32 },
    { header: "postings", key: "postings", width: 12 },
  ];
  for (const r of sorted(byLocation, (x) => x.location)) locations.addRow([r.location, Number(r.postings)]);
  const skills = workbook.addWorksheet("jobs_by_skill");
  skills.columns = [
    { header: "skill", key: "skill", width: 32 },
    { header: "postings", key: "postings", width: 12 },
  ];
  for (const r of sorted(bySkill, (x) => x.skill)) skills.addRow([r.skill, Number(r.postings)]);
  for (const sheet of [locations, skills]) sheet.getRow(1).font = { bold: true };
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await workbook.xlsx.writeFile(tmp);
  await fs.promises.rename(tmp, file);
}

/**
 * After a local run: when the warehouse under `out` has `dataproducts.jobs_by_location`, writes
 * both job tables to `<out>/exports/jobs.xlsx` and returns its path (else `undefined`).
 */
export async function exportJobsWorkbook(out: string): Promise<string | undefined> {
  const warehouse = await openDuckDbWarehouse(path.join(path.resolve(out), "warehouse.duckdb"));
  try {
    const tables = await warehouse.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'dataproducts' AND table_name IN ('jobs_by_location', 'jobs_by_skill')");
    const names = new Set(tables.map((t) => String(t.table_name)));
    if (!names.has("jobs_by_location")) return undefined;
    const byLocation = (await warehouse.query("SELECT location, postings FROM dataproducts.jobs_by_location")).map((r) => ({ location: String(r.location), postings: Number(r.postings) }));
    const bySkill = names.has("jobs_by_skill")
      ? (await warehouse.query("SELECT skill, postings FROM dataproducts.jobs_by_skill")).map((r) => ({ skill: String(r.skill), postings: Number(r.postings) }))
      : [];
    const file = path.join(path.resolve(out), "exports", "jobs.xlsx");
    await writeJobsWorkbook(file, byLocation, bySkill);
    return file;
  } finally {
    await warehouse.close();
  }
}
