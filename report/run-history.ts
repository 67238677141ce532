import * as fs from "fs";
import * as path from "path";
import type { SinkTarget } from "../model/backends";
import type { RunManifest } from "../pipeline/manifest";

/**
 * The run history the report draws: one point per run manifest (`runs/<run_id>.json` beside the
 * lake: `<out>/runs/` locally, `gs://<bucket>/runs/` on GCS), oldest first.
 */

/** Records per layer of one run, summed over its entities. */
export interface RunLayers {
  run_id: string;
  status: string;
  started_at: string;
  /** Records fetched = rows landed in lake/raw. */
  raw: number;
  /** Records kept after validation and dedupe = rows written to lake/processed and merged into the hub. */
  hub: number;
  /** Records dead-lettered (parse, validate, normalize, aggregate). */
  deadletter: number;
  /** Rows the run (re)computed in dataproducts. */
  dataproducts: number;
}

/** Per-layer totals of a manifest. */
export function runLayers(m: RunManifest): RunLayers {
  const out: RunLayers = { run_id: m.run_id, status: m.status, started_at: m.started_at, raw: 0, hub: 0, deadletter: 0, dataproducts: 0 };
  for (const c of Object.values(m.entities ?? {})) {
    out.raw += c.fetched ?? 0;
    out.hub += c.kept ?? 0;
    out.deadletter += (c.parse_failed ?? 0) + (c.validate_failed ?? 0) + (c.normalize_failed ?? 0) + (c.aggregate_rejected ?? 0);
  }
  for (const n of Object.values(m.dataproducts ?? {})) out.dataproducts += Number(n) || 0;
  return out;
}

/**
 * Every run manifest of the target, oldest first (by `started_at`, then run id). A file that is
 * not a JSON manifest is skipped and named in `unreadable` (the report lists it).
 */
export async function readRunManifests(target: SinkTarget): Promise<{ manifests: RunManifest[]; unreadable: string[] }> {
  const texts = target.kind === "local" ? await localManifests(target.out) : await gcsManifests(target.project, target.bucket);
  const manifests: RunManifest[] = [];
  const unreadable: string[] = [];
  for (const t of texts) {
    try {
      const m = JSON.parse(t.text) as RunManifest;
      if (typeof m.run_id !== "string" || typeof m.entities !== "object") throw new Error("not a manifest");
      manifests.push(m);
    } catch {
      unreadable.push(t.name);
    }
  }
  manifests.sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.run_id < b.run_id ? -1 : 1));
  return { manifests: manifests, unreadable: unreadable };
}

async function localManifests(out: string): Promise<{ name: string; text: string }[]> {
  const dir = path.join(path.resolve(out), "runs");
  if (!fs.existsSync(dir)) return [];
  const names = (await fs.promises.readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  return Promise.all(names.map(async (n) => ({ name: `runs/${n}`, text: await fs.promises.readFile(path.join(dir, n), "utf8") })));
}

async function gcsManifests(project: string, bucket: string): Promise<{ name: string; text: string }[]> {
  // Required here: a local report must not load the Cloud Storage client.
  const cloudStorage = require("@google-cloud/storage") as typeof import("@google-cloud/storage");
  const files = (await new cloudStorage.Storage({ projectId: project }).bucket(bucket).getFiles({ prefix: "runs/", autoPaginate: true }))[0];
  const json = files.filter((f) => f.name.endsWith(".json") && !f.name.slice("runs/".length).includes("/"));
  return Promise.all(json.map(async (f) => ({ name: f.name, text: (await f.download())[0].toString("utf8") })));
}
