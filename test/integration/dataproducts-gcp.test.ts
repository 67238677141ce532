import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as storage from "@google-cloud/storage";
import { startEmulators, type Emulators } from "../emulators/emulators";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { demoEnvironment } from "../../pipeline/demo-command";
import { loadPreset } from "../../pipeline/presets";
import { executeRun } from "../../pipeline/run";
import { openWarehouse } from "../../sinks/open-backends";
import type { SinkTarget } from "../../model/backends";
import type { Row } from "../../model/row";
import type { ParsedOptions } from "../../pipeline/options";

// The jobs preset's dataproducts, recomputed from the hub inside BigQuery (emulator) by the
// graph, equal the DuckDB ones, and carry the run that last computed them.
const BUCKET = "api2lake-dp";
const PREFIX = "dp_";
let emu: Emulators;
let api: DemoApi;

before(async () => {
  emu = await startEmulators(["gcs", "bigquery"]);
  await new storage.Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).createBucket(BUCKET);
  api = await startDemoApi({ port: 0, sizes: { jobs: 60 } });
  Object.assign(process.env, demoEnvironment(api.url));
});
after(async () => {
  await api?.close();
  await emu?.stop();
});

const gcp = (): ParsedOptions => ({
  sink: "gcp", project: emu.project, bucket: BUCKET, datasetPrefix: PREFIX, location: "US", requestConcurrency: 4, runner: "direct", gcpTimeoutMs: 5000,
});
const gcpTarget = (): SinkTarget => ({ kind: "gcp", project: emu.project, bucket: BUCKET, datasetPrefix: PREFIX, bigtableInstance: "x", location: "US", timeoutMs: 5000 });

async function jobTables(target: SinkTarget, dataset: string): Promise<{ rows: string[]; runIds: Set<unknown> }> {
  const warehouse = await openWarehouse(target);
  try {
    const location = await warehouse.query(`SELECT location AS k, postings, _run_id FROM ${dataset}.jobs_by_location`);
    const skill = await warehouse.query(`SELECT skill AS k, postings, _run_id FROM ${dataset}.jobs_by_skill`);
    const all: Row[] = [...location.map((r) => ({ ...r, t: "location" })), ...skill.map((r) => ({ ...r, t: "skill" }))];
    return { rows: all.map((r) => JSON.stringify([r.t, r.k, Number(r.postings)])).sort(), runIds: new Set(all.map((r) => r._run_id)) };
  } finally {
    await warehouse.close();
  }
}

test("jobs: BigQuery recomputes the dataproducts from its hub as DuckDB does; each row names the run that computed it", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-dp-gcp-"));
  const local = await executeRun({ sources: [loadPreset("jobs")], entities: "ALL", options: { out: out, runner: "direct", requestConcurrency: 4 } });
  assert.equal(local.status, "succeeded", local.errors.join("; "));
  const expected = await jobTables({ kind: "local", out: out }, "dataproducts");
  assert.ok(expected.rows.length > 10);
  for (let i = 0; i < 2; i++) {
    const cloud = await executeRun({ sources: [loadPreset("jobs")], entities: "ALL", options: gcp() });
    assert.equal(cloud.status, "succeeded", cloud.errors.join("; "));
    const got = await jobTables(gcpTarget(), `${PREFIX}dataproducts`);
    assert.deepEqual(got.rows, expected.rows);
    assert.deepEqual([...got.runIds], [cloud.run_id], "every row carries the run that last recomputed it");
  }
});
