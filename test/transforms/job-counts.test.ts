import { test } from "node:test";
import * as assert from "node:assert/strict";
import { jobsByLocation, jobsBySkill, splitLocations, splitSkills } from "../../transforms/job-counts";

const postings = [
  { id: "1", location: "Bangalore/Bengaluru", skills: "Python| SQL ,python" },
  { id: "1", location: "Bangalore/Bengaluru", skills: "Python| SQL ,python" },
  { id: "2", location: " Mumbai , Pune, Mumbai", skills: "sql|Java||" },
  { id: "3", location: "Pune", skills: "python , JAVA" },
  { id: "4", location: "", skills: "" },
];

test("splitting rules", () => {
  assert.deepEqual(splitLocations(" Mumbai , Pune, Mumbai"), ["Mumbai", "Pune"]);
  assert.deepEqual(splitLocations("New  Delhi / NCR"), ["New Delhi", "NCR"]);
  assert.deepEqual(splitSkills("a| b ,,c|"), ["a", "b", "c"]);
  assert.deepEqual(splitLocations(null), []);
});

test("jobsByLocation: dedupe by id, a posting counted once per distinct city", () => {
  assert.deepEqual(jobsByLocation(postings, { idField: "id", locationField: "location" }), [
    { location: "Pune", postings: 2 },
    { location: "Bangalore", postings: 1 },
    { location: "Bengaluru", postings: 1 },
    { location: "Mumbai", postings: 1 },
  ]);
});

test("jobsBySkill: case-insensitive, most frequent spelling, ties -> smallest", () => {
  assert.deepEqual(jobsBySkill(postings, { idField: "id", skillsField: "skills" }), [
    { skill: "JAVA", postings: 2 }, // "Java" x1, "JAVA" x1 -> "JAVA" < "Java"
    { skill: "SQL", postings: 2 }, // "SQL" x1, "sql" x1 -> "SQL"
    { skill: "python", postings: 2 }, // "Python" x1, "python" x2 (posting 1 lists it twice)
  ]);
});
