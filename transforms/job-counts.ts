import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import { canonicalJson } from "./lineage";

export interface LocationRow { location: string; postings: number }
export interface SkillRow { skill: string; postings: number }

const idText = (v: unknown): string | undefined =>
  v === undefined || v === null || v === "" ? undefined : typeof v === "string" ? v.trim() : JSON.stringify(v);

/**
 * One posting per id (postings without an id are each their own posting). Among duplicates the
 * one with the smallest `_payload_hash` (or canonical JSON) is kept, so the choice does not depend
 * on input order.
 */
export function dedupePostings(postings: readonly Row[], idField: string): Row[] {
  const byId = new Map<string, Row>();
  const noId: Row[] = [];
  for (const p of postings) {
    const id = idText(p[idField]);
    if (id === undefined) { noId.push(p); continue; }
    const current = byId.get(id);
    if (current === undefined || tieKey(p) < tieKey(current)) byId.set(id, p);
  }
  return [...byId.values(), ...noId];
}

const tieKey = (row: Row): string => (typeof row._payload_hash === "string" ? row._payload_hash : canonicalJson(row));

/** The distinct cities of a location value: split on `,` and `/`, trimmed, inner spaces collapsed, empty dropped. */
export function splitLocations(value: unknown): string[] {
  if (typeof value !== "string") return [];
  const cities = value.split(/[,/]/).map((c) => c.trim().replace(/\s+/g, " ")).filter((c) => c !== "");
  return [...new Set(cities)];
}

/** The skills of a `Key Skills` value: split on `|` and `,`, trimmed, empty dropped (as written). */
export function splitSkills(value: unknown): string[] {
  if (typeof value !== "string") return [];
  return value.split(/[|,]/).map((s) => s.trim().replace(/\s+/g, " ")).filter((s) => s !== "");
}

const byCountThenName = <T extends { postings: number }>(name: (r: T) => string) => (a: T, b: T) =>
  b.postings - a.postings || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

/**
 * Postings per city, after deduplicating postings by id; a posting listing a city twice counts
 * once. Postings without a location are not in any row. Sorted by count (desc), then name.
 */
export function jobsByLocation(postings: readonly Row[], config: { idField: string; locationField: string }): LocationRow[] {
  const counts = new Map<string, number>();
  for (const p of dedupePostings(postings, config.idField))
    for (const city of splitLocations(p[config.locationField])) counts.set(city, (counts.get(city) ?? 0) + 1);
  return [...counts].map((e) => ({ location: e[0], postings: e[1] })).sort(byCountThenName((r: LocationRow) => r.location));
}

/** Per case-insensitive skill: how many postings list it and how often each spelling appears. */
export interface SkillTally { postings: number; spellings: Record<string, number> }

/** Adds one posting's skills to a tally (each skill once per posting, each spelling counted). */
export function tallySkills(tally: Map<string, SkillTally>, skillsValue: unknown): void {
  const seen = new Set<string>();
  for (const spelling of splitSkills(skillsValue)) {
    const key = spelling.toLowerCase();
    let t = tally.get(key);
    if (t === undefined) tally.set(key, (t = { postings: 0, spellings: {} }));
    t.spellings[spelling] = (t.spellings[spelling] ?? 0) + 1;
    if (!seen.has(key)) { seen.add(key); t.postings += 1; }
  }
}

/** The most frequent spelling; ties -> the lexicographically smallest. */
export function displaySpelling(spellings: Record<string, number>): string {
  let best = "";
  let bestCount = -1;
  for (const s of Object.keys(spellings)) {
    const n = spellings[s];
    if (n > bestCount || (n === bestCount && s < best)) { best = s; bestCount = n; }
  }
  return best;
}

/**
 * Postings per skill, after deduplicating postings by id; skills grouped case-insensitively and
 * shown in their most frequent spelling. Sorted by count (desc), then skill.
 */
export function jobsBySkill(postings: readonly Row[], config: { idField: string; skillsField: string }): SkillRow[] {
  const tally = new Map<string, SkillTally>();
  for (const p of dedupePostings(postings, config.idField)) tallySkills(tally, p[config.skillsField]);
  return [...tally.values()].map((t) => ({ skill: displaySpelling(t.spellings), postings: t.postings })).sort(byCountThenName((r: SkillRow) => r.skill));
}

// DoFns call these by reference: Beam ships the module name, not the code (top-level functions
// holding arrow functions do not survive the closure serializer), and a worker requires the module.
requireForSerialization("api2lake/dist/transforms/job-counts", { dedupePostings: dedupePostings, splitLocations: splitLocations, splitSkills: splitSkills, jobsByLocation: jobsByLocation, tallySkills: tallySkills, displaySpelling: displaySpelling, jobsBySkill: jobsBySkill, idText: idText, tieKey: tieKey });
