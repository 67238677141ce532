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
import { openWarehouse, openServingStore } from "../../sinks/open-backends";
import type { SinkTarget } from "../../model/backends";
import type { ParsedOptions } from "../../pipeline/options";
import { UsageError } from "../../pipeline/usage-error";
import { BUCKET_LOCK_OBJECT } from "../../pipeline/bucket-lock";

const SIZES = { products: 30, customers: 120, sales: 150, invoices: 60 };
const BUCKET = "api2lake-it";
const PREFIX = "it_";

let emu: Emulators;
let api: DemoApi;
let localOut: string;

function gcpOptions(): ParsedOptions {
  return { sink: "gcp", project: emu.project, bucket: BUCKET, datasetPrefix: PREFIX, bigtableInstance: "serving", location: "US", requestConcurrency: 4, runner: "direct", gcpTimeoutMs: 5000 };
}
const gcpTarget = (): SinkTarget => ({ kind: "gcp", project: emu.project, bucket: BUCKET, datasetPrefix: PREFIX, bigtableInstance: "serving", location: "US", timeoutMs: 5000 });

async function hubSnapshot(target: SinkTarget, dataset: string): Promise<Record<string, string[]>> {
  const warehouse = await openWarehouse(target);
  try {
    const out: Record<string, string[]> = {};
    const queries: Record<string, string> = {
      customers: `SELECT customer_id, phone_e164, signup_date FROM ${dataset}.customers`,
      sales: `SELECT sale_id, quantity, amount FROM ${dataset}.sales`,
      products: `SELECT product_id, price FROM ${dataset}.products`,
      invoices: `SELECT invoice_id, total FROM ${dataset}.invoices`,
    };
    for (const entry of Object.entries(queries)) {
      const rows = await warehouse.query(entry[1]);
      out[entry[0]] = rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => normalize(r[k])))).sort();
    }
    return out;
  } finally {
    await warehouse.close();
  }
}

/** Both warehouses return the same values in slightly different JS shapes (dates, numbers). */
function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "object" && v !== null && "value" in (v as Record<string, unknown>)) return normalize((v as { value: unknown }).value);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) return v.slice(0, 10);
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

async function servingSnapshot(target: SinkTarget): Promise<string[]> {
  const store = await openServingStore(target);
  try {
    const rows = await store.read("invoices", { limit: 10_000 });
    return rows.map((r) => JSON.stringify([r.key, r.cells.amt.total.value, r.cells.inv.status.value]));
  } finally {
    await store.close();
  }
}

async function runBoth(options: ParsedOptions) {
  return executeRun({ sources: [loadPreset("commerce"), loadPreset("invoices")], entities: "ALL", options: options });
}

before(async () => {
  emu = await startEmulators(["gcs", "bigquery", "bigtable"]);
  await new storage.Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).createBucket(BUCKET);
  api = await startDemoApi({ port: 0, sizes: SIZES });
  Object.assign(process.env, demoEnvironment(api.url));
  localOut = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-it-local-"));
});

after(async () => {
  await api?.close();
  await emu?.stop();
});

test("two presets with --sink gcp land the same rows as with --sink local", async () => {
  const local = await runBoth({ sink: "local", out: localOut, requestConcurrency: 4, runner: "direct" });
  assert.equal(local.status, "succeeded", local.errors.join("; "));
  const cloud = await runBoth(gcpOptions());
  assert.equal(cloud.status, "succeeded", cloud.errors.join("; "));
  assert.deepEqual(cloud.entities, local.entities, "per-stage counts differ between the backends");

  const localHub = await hubSnapshot({ kind: "local", out: localOut }, "hub");
  const cloudHub = await hubSnapshot(gcpTarget(), `${PREFIX}hub`);
  for (const table of Object.keys(localHub)) {
    assert.ok(localHub[table].length > 0, `local hub.${table} is empty`);
    assert.deepEqual(cloudHub[table], localHub[table], `hub.${table} differs between DuckDB and BigQuery`);
  }
  const localServing = await servingSnapshot({ kind: "local", out: localOut });
  assert.ok(localServing.length > 0);
  assert.deepEqual(await servingSnapshot(gcpTarget()), localServing, "Bigtable rows differ from the embedded store's");

  const lakeFiles = await new storage.Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).bucket(BUCKET).getFiles({ prefix: "runs/" });
  assert.ok(lakeFiles[0].some((f) => f.name === `runs/${cloud.run_id}.json`), "the run manifest is not in the bucket");
  assert.ok(lakeFiles[0].some((f) => f.name === `runs/${cloud.run_id}.log`), "the run's log is not in the bucket");
});

test("running the same input again leaves the hub and Bigtable exactly as one run does", async () => {
  const before1 = await hubSnapshot(gcpTarget(), `${PREFIX}hub`);
  const serving1 = await servingSnapshot(gcpTarget());
  const again = await runBoth(gcpOptions());
  assert.equal(again.status, "succeeded", again.errors.join("; "));
  assert.deepEqual(await hubSnapshot(gcpTarget(), `${PREFIX}hub`), before1);
  assert.deepEqual(await servingSnapshot(gcpTarget()), serving1);
});

/** Stops one emulator for a run, which must fail naming the backend; a re-run after the restart repairs everything. */
async function outageIsRepaired(emulator: "bigtable" | "bigquery", message: RegExp): Promise<void> {
  // The BigQuery emulator's WebAssembly memory only grows and it panics after a few hundred jobs:
  // each outage test starts on a restarted process (same port, same data file).
  await emu.stop("bigquery");
  await emu.start("bigquery");
  const expectedHub = await hubSnapshot(gcpTarget(), `${PREFIX}hub`);
  const expectedServing = await servingSnapshot(gcpTarget());
  await emu.stop(emulator);
  try {
    // Found by the preflight (pipeline/gcp-preflight.ts), before any fetching: a usage error naming the option.
    await assert.rejects(runBoth(gcpOptions()), (error: Error) => error instanceof UsageError && message.test(error.message));
  } finally {
    await emu.start(emulator);
  }
  assert.equal((await new storage.Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT }).bucket(BUCKET).file(BUCKET_LOCK_OBJECT).exists())[0], false);
  const rerun = await runBoth(gcpOptions());
  assert.equal(rerun.status, "succeeded", rerun.errors.join("; "));
  await emu.stop("bigquery"); // a fresh emulator process for the comparison queries (see above)
  await emu.start("bigquery");
  assert.deepEqual(await hubSnapshot(gcpTarget(), `${PREFIX}hub`), expectedHub);
  assert.deepEqual(await servingSnapshot(gcpTarget()), expectedServing);
}

test("with Bigtable down the run fails with a clear message; after a restart a re-run completes with nothing lost or duplicated", async () => {
  await outageIsRepaired("bigtable", /^--bigtableInstance serving: Bigtable could not be asked whether the instance exists \(/);
});

test("with BigQuery down the run fails naming the warehouse; after a restart a re-run completes with nothing lost or duplicated", async () => {
  await outageIsRepaired("bigquery", /^--project api2lake-test: BigQuery could not be reached \(/);
});
