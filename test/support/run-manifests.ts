import * as fs from "fs";
import * as path from "path";
import type { RunManifest } from "../../pipeline/manifest";

/** The manifest of the run that started last in `<out>/runs` (run ids sort by second only: two runs can share one). */
export function newestManifest(out: string): RunManifest {
  const manifests = fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(out, "runs", f), "utf8")) as RunManifest);
  return manifests.sort((a, b) => a.started_at.localeCompare(b.started_at))[manifests.length - 1];
}

/** The message `JSON.parse` gives for `text` ("" when it parses): dead letters quote it. */
export function jsonError(text: string): string {
  try {
    JSON.parse(text);
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}
