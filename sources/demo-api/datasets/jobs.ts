/**
 * Jobs preset (the seeds' Flask API): job postings with pipe-separated skills.
 *
 * Mess: `Key Skills` mixes "|" and "," separators, stray spaces and case ("python", "Python",
 * "PYTHON"); `Location` has stray spaces and multi-city values ("New York / Seattle",
 * "Bangalore, Pune"). Position i % 100 === 37 (and ~1% of positions >= 10) repeats an earlier
 * posting: same `id` and fields, later `Crawl Timestamp`.
 */
import { hashOf, rngFor, unitOf } from "../random";
import { pad } from "./common";

export const JOBS_EPOCH_MS = Date.UTC(2019, 6, 1);

export interface Posting {
  id: string;
  "Job Title": string;
  "Key Skills": string;
  Location: string;
  "Role Category": string;
  Industry: string;
  Role: string;
  "Crawl Timestamp": string;
}

/** Field names exactly as in the records (for `/data?<field>=<regex>`). */
export const POSTING_FIELDS: readonly (keyof Posting)[] = ["id", "Job Title", "Key Skills", "Location", "Role Category", "Industry", "Role", "Crawl Timestamp"];

const SKILLS = ["Python", "SQL", "Spark", "Java", "JavaScript", "AWS", "Docker", "Kubernetes", "Excel", "Tableau", "Machine Learning", "Hadoop", "React", "Go", "Scala", "Airflow"];
const LOCATIONS = [
  "Seattle", " Seattle", "Seattle ", "New York", "New York / Seattle", "San Francisco", "Austin",
  "Bangalore", "Bangalore, Pune", "Pune", "Mumbai", " Hyderabad ", "London", "Paris",
];
const ROLES: readonly { title: string; category: string; role: string; skills: readonly string[] }[] = [
  { title: "Data Engineer", category: "Programming & Design", role: "Software Developer", skills: ["Python", "SQL", "Spark", "Airflow", "Hadoop", "Scala", "AWS"] },
  { title: "Data Analyst", category: "Analytics & BI", role: "Data Analyst", skills: ["SQL", "Excel", "Tableau", "Python"] },
  { title: "Backend Developer", category: "Programming & Design", role: "Software Developer", skills: ["Java", "Go", "SQL", "Docker", "Kubernetes", "AWS"] },
  { title: "Frontend Developer", category: "Programming & Design", role: "Software Developer", skills: ["JavaScript", "React"] },
  { title: "ML Engineer", category: "Analytics & BI", role: "Data Scientist", skills: ["Python", "Machine Learning", "Spark", "SQL"] },
  { title: "DevOps Engineer", category: "System Design", role: "System Administrator", skills: ["Docker", "Kubernetes", "AWS", "Python", "Go"] },
];
const INDUSTRIES = ["IT-Software, Software Services", "Banking, Financial Services", "Internet, Ecommerce", "Recruitment, Staffing", "Education, Teaching"];

export function jobsKind(seed: number, i: number): "normal" | "duplicate" {
  return i >= 10 && (i % 100 === 37 || unitOf(seed, "jobs.dup", i) < 0.01) ? "duplicate" : "normal";
}

/** For a duplicate at position i: the normal position it repeats. */
export function jobsDuplicateOf(seed: number, i: number): number {
  let p = i - 1 - rngFor(seed, "jobs.dupOf", i).int(0, Math.min(i - 1, 50));
  while (jobsKind(seed, p) === "duplicate") p = jobsDuplicateOf(seed, p);
  return p;
}

/** A 32-hex id (like the seeds' `Uniq Id`) of the posting first seen at position p. */
export function postingId(seed: number, p: number): string {
  let out = "";
  for (let k = 0; k < 4; k++) out += hashOf(seed, "jobs.id", p, k).toString(16).padStart(8, "0");
  return out;
}

function skillText(r: ReturnType<typeof rngFor>, skills: readonly string[]): string {
  const chosen = r.sample(skills, r.int(1, Math.min(4, skills.length)));
  const cased = chosen.map((s) => (r.chance(0.2) ? s.toLowerCase() : r.chance(0.05) ? s.toUpperCase() : s));
  let text = cased[0];
  for (let k = 1; k < cased.length; k++) text += r.pick(["|", "| ", " |", " | ", ", ", ","]) + cased[k];
  return r.chance(0.1) ? ` ${text} ` : text;
}

function crawlTimestamp(seed: number, i: number): string {
  const ms = JOBS_EPOCH_MS + i * 600_000 + Math.floor(unitOf(seed, "jobs.time", i) * 600) * 1000;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " +0000";
}

/** Posting at position i (0-based) of the postings list. */
export function jobPosting(seed: number, i: number): Posting {
  const p = jobsKind(seed, i) === "duplicate" ? jobsDuplicateOf(seed, i) : i;
  const r = rngFor(seed, "jobs.posting", p);
  const role = r.pick(ROLES);
  const level = r.pick(["", "Senior ", "Junior ", "Lead "]);
  return {
    id: postingId(seed, p),
    "Job Title": `${level}${role.title}${r.chance(0.2) ? " - " + pad(r.int(1, 99), 2) : ""}`,
    "Key Skills": skillText(r, role.skills),
    Location: r.pick(LOCATIONS),
    "Role Category": role.category,
    Industry: r.pick(INDUSTRIES),
    Role: role.role,
    "Crawl Timestamp": crawlTimestamp(seed, i),
  };
}
