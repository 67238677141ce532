import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ExcelJS from "exceljs";
import { writeJobsWorkbook } from "../../sinks/workbook";

async function sheets(file: string): Promise<Record<string, unknown[][]>> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const out: Record<string, unknown[][]> = {};
  for (const sheet of workbook.worksheets) {
    const rows: unknown[][] = [];
    sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    out[sheet.name] = rows;
  }
  return out;
}

test("writeJobsWorkbook: two sheets with a header row, sorted by postings desc then name", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-workbook-"));
  const file = path.join(dir, "nested", "jobs.xlsx");
  await writeJobsWorkbook(
    file,
    [{ location: "Pune", postings: 3 }, { location: "Austin", postings: 7 }, { location: "Bangalore", postings: 3 }, { location: "São Paulo", postings: 1 }],
    [{ skill: "SQL", postings: 2 }, { skill: "Python", postings: 9 }, { skill: "AWS", postings: 2 }],
  );
  const got = await sheets(file);
  assert.deepEqual(Object.keys(got), ["jobs locations", "languages jobs"]);
  assert.deepEqual(got["jobs locations"], [["location", "postings"], ["Austin", 7], ["Bangalore", 3], ["Pune", 3], ["São Paulo", 1]]);
  assert.deepEqual(got["languages jobs"], [["skill", "postings"], ["Python", 9], ["AWS", 2], ["SQL", 2]]);

  // rewriting replaces the file; empty tables keep their header
  await writeJobsWorkbook(file, [], []);
  assert.deepEqual(await sheets(file), { "jobs locations": [["location", "postings"]], "languages jobs": [["skill", "postings"]] });
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["jobs.xlsx"], "no temp file left behind");
});
