import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";
import * as ExcelJS from "exceljs";
import { spawnSync } from "child_process";
import { jobPosting, type Posting } from "../../sources/demo-api";
import { SEED, BIN, runGolden, sql, rawGlob, assertRunSucceeded } from "./helpers";

const SIZES = { jobs: 150 };

type Count = { name: string; postings: number };
const order = (a: Count, b: Count) => b.postings - a.postings || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Postings per city and per skill from the generators: one posting per id; cities split on , and /; skills on | and , case-insensitively, shown in their most frequent spelling. */
function expectedCounts(n: number): { byLocation: Count[]; bySkill: Count[]; distinct: number } {
  const byId = new Map<string, Posting>();
  for (let i = 0; i < n; i++) {
    const p = jobPosting(SEED, i);
    if (!byId.has(p.id)) byId.set(p.id, p);
  }
  const cities = new Map<string, number>();
  const skills = new Map<string, { postings: number; spellings: Map<string, number> }>();
  for (const p of byId.values()) {
    const seenCities = new Set<string>();
    for (const part of p.Location.split(",").flatMap((x) => x.split("/"))) {
      const city = part.trim().split(/\s+/).join(" ");
      if (city && !seenCities.has(city)) { seenCities.add(city); cities.set(city, (cities.get(city) ?? 0) + 1); }
    }
    const seenSkills = new Set<string>();
    for (const part of p["Key Skills"].split("|").flatMap((x) => x.split(","))) {
      const spelling = part.trim();
      if (!spelling) continue;
      const key = spelling.toLowerCase();
      const s = skills.get(key) ?? { postings: 0, spellings: new Map<string, number>() };
      skills.set(key, s);
      s.spellings.set(spelling, (s.spellings.get(spelling) ?? 0) + 1);
      if (!seenSkills.has(key)) { seenSkills.add(key); s.postings += 1; }
    }
  }
  const display = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  return {
    byLocation: [...cities.entries()].map((e) => ({ name: e[0], postings: e[1] })).sort(order),
    bySkill: [...skills.values()].map((s) => ({ name: display(s.spellings), postings: s.postings })).sort(order),
    distinct: byId.size,
  };
}

test("jobs golden: jobs_by_location / jobs_by_skill equal independent counts, and the two-sheet workbook holds them", async () => {
  const run = await runGolden("jobs", SIZES);
  assertRunSucceeded(run.manifest);
  const exp = expectedCounts(SIZES.jobs);
  assert.ok(exp.distinct < SIZES.jobs, "the sizes must include repeated postings (i % 100 == 37)");

  const m = run.manifest.entities.postings;
  assert.equal(m.fetched, SIZES.jobs);
  assert.equal(m.kept, exp.distinct);
  assert.equal(m.duplicates, SIZES.jobs - exp.distinct);
  const hub = await sql(run.out, "SELECT count(*) AS n FROM hub.postings");
  assert.equal(Number(hub[0].n), exp.distinct);
  const raw = await sql(run.out, `SELECT count(DISTINCT id) AS n FROM read_json_auto('${rawGlob(run.out, "postings")}')`);
  assert.equal(Number(raw[0].n), exp.distinct);

  const byLocation = (await sql(run.out, "SELECT location, postings FROM dataproducts.jobs_by_location")).map((r) => ({ name: String(r.location), postings: Number(r.postings) })).sort(order);
  assert.deepEqual(byLocation, exp.byLocation);
  // multi-city values count for each city; stray spaces do not make new cities
  assert.ok(byLocation.some((r) => r.name === "Seattle") && !byLocation.some((r) => r.name !== r.name.trim() || r.name.includes("/") || r.name.includes(",")));
  const bySkill = (await sql(run.out, "SELECT skill, postings FROM dataproducts.jobs_by_skill")).map((r) => ({ name: String(r.skill), postings: Number(r.postings) })).sort(order);
  assert.deepEqual(bySkill, exp.bySkill);
  assert.equal(new Set(bySkill.map((r) => r.name.toLowerCase())).size, bySkill.length, "a skill is listed under two spellings");

  // ---- `api2lake report` writes <out>/report/jobs.xlsx: two sheets, header row, postings desc then name
  const report = spawnSync(process.execPath, [BIN, "report", "--out", run.out], { encoding: "utf8", timeout: 120_000 });
  assert.equal(report.status, 0, `report exited ${report.status}: ${report.stderr}`);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path.join(run.out, "report", "jobs.xlsx"));
  assert.deepEqual(workbook.worksheets.map((w) => w.name), ["jobs locations", "languages jobs"]);
  const sheetRows = (name: string) => {
    const rows: unknown[][] = [];
    workbook.getWorksheet(name)!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    return rows;
  };
  assert.deepEqual(sheetRows("jobs locations"), [["location", "postings"], ...exp.byLocation.map((r) => [r.name, r.postings])]);
  assert.deepEqual(sheetRows("languages jobs"), [["skill", "postings"], ...exp.bySkill.map((r) => [r.name, r.postings])]);
});
