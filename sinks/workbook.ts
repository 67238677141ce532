import * as fs from "fs";
import * as path from "path";
import * as ExcelJS from "exceljs";

/**
 * The jobs seed's two-sheet workbook (seed 003: "jobs locations" = postings per city, "languages
 * jobs" = postings per technology), each sheet with a bold header row, sorted by postings (desc)
 * then name (code-unit order). `api2lake report` writes it from `dataproducts.jobs_by_location`
 * and `dataproducts.jobs_by_skill` (report/build-report.ts).
 */

/** The sheet names, as the seed's users know them. */
export const JOBS_SHEETS = { locations: "jobs locations", skills: "languages jobs" } as const;

export interface LocationCount { location: string; postings: number }
export interface SkillCount { skill: string; postings: number }

function sorted<T extends { postings: number }>(rows: readonly T[], name: (r: T) => string): T[] {
  return [...rows].sort((a, b) => b.postings - a.postings || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

/** Writes `file` (an .xlsx), creating its folder; replaces an existing file. */
export async function writeJobsWorkbook(file: string, byLocation: readonly LocationCount[], bySkill: readonly SkillCount[]): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "api2lake";
  const locations = workbook.addWorksheet(JOBS_SHEETS.locations);
  locations.columns = [
    { header: "location", key: "location", width: 32 },
    { header: "postings", key: "postings", width: 12 },
  ];
  for (const r of sorted(byLocation, (x) => x.location)) locations.addRow([r.location, Number(r.postings)]);
  const skills = workbook.addWorksheet(JOBS_SHEETS.skills);
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
