import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Storage } from "@google-cloud/storage";
import { freePort, startEmulators, type Emulators } from "../emulators/emulators";
import { runCli, startCli } from "../support/cli-process";
import { startServer, json, type LocalServer } from "../rest/helpers";
import { heldSourceYaml, startHeldServer, type HeldServer } from "../support/held-server";
import { acquireBucketLock, BUCKET_LOCK_OBJECT } from "../../pipeline/bucket-lock";
import { checkServices, type GcpProbes } from "../../pipeline/gcp-preflight";
import { UsageError } from "../../pipeline/usage-error";

// gcpRun points BigQuery at a closed port, so those runs stop at the preflight (exit 2); only the
// two concurrent runs use the BigQuery emulator.
let emu: Emulators;
let api: LocalServer;
let held: HeldServer;
let heldConfig: string;
let config: string;
let closedBigQuery: string;
const storage = () => new Storage({ projectId: emu.project, apiEndpoint: emu.env.API2LAKE_STORAGE_ENDPOINT });
let counter = 0;

async function newBucket(): Promise<string> {
  const name = `preflight-${process.pid}-${++counter}`;
  await storage().createBucket(name);
  return name;
}

const lockExists = async (bucket: string) => (await storage().bucket(bucket).file(BUCKET_LOCK_OBJECT).exists())[0];

function gcpRun(bucket: string, extra: readonly string[] = []) {
  const args = ["run", "--config", config, "--sink", "gcp", "--project", emu.project, "--bucket", bucket, "--bigtableInstance", "serving", ...extra];
  return runCli(args, { ...emu.env, API2LAKE_BIGQUERY_ENDPOINT: closedBigQuery });
}

before(async () => {
  emu = await startEmulators(["gcs", "bigtable", "bigquery"]);
  api = await startServer((req, res) => json(res, { data: [] }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-preflight-"));
  config = path.join(dir, "source.yaml");
  fs.writeFileSync(config, heldSourceYaml(api.url, "preflight", "/items"));
  held = await startHeldServer();
  heldConfig = path.join(dir, "held.yaml");
  fs.writeFileSync(heldConfig, heldSourceYaml(held.url, "held", "/slow/items"));
  closedBigQuery = `http://127.0.0.1:${await freePort()}`;
});

after(async () => {
  await api?.close();
  await held?.close();
  await emu?.stop();
});

test("a missing bucket is a usage error naming it and --bucket, before any request", async () => {
  const result = await gcpRun("no-such-bucket-here");
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--bucket no-such-bucket-here: the bucket gs:\/\/no-such-bucket-here does not exist .*fix --bucket/);
  assert.equal(api.requests.length, 0);
});

test("a missing Bigtable instance, and an unreachable BigQuery, are named with the option to fix", async () => {
  // The Bigtable emulator has no instance admin API (UNIMPLEMENTED) and serves any instance name,
  // so a missing instance cannot happen there: the probe answers as Google's API does for one.
  const probes: GcpProbes = {
    bucketExists: async () => true,
    instanceExists: async () => false,
    bigQueryReachable: async () => { throw new Error("connect ECONNREFUSED 127.0.0.1:1\nstack"); },
  };
  const target = { kind: "gcp" as const, project: "acme-data", bucket: "b", datasetPrefix: "", bigtableInstance: "serving", location: "EU", timeoutMs: 1000 };
  await assert.rejects(checkServices(target, probes), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.equal(
      error.message,
      "--bigtableInstance serving: the Bigtable instance projects/acme-data/instances/serving does not exist; create it or fix --bigtableInstance\n" +
        "--project acme-data: BigQuery could not be reached (connect ECONNREFUSED 127.0.0.1:1); check --project, your credentials and that the BigQuery API is enabled",
    );
    return true;
  });
  await checkServices(target, { ...probes, instanceExists: async () => undefined, bigQueryReachable: async () => undefined });
  // A run without serving entities never writes to Bigtable: its instance (and credentials) are not asked for.
  let asked = false;
  const noServing: GcpProbes = { ...probes, instanceExists: async () => { asked = true; return false; }, bigQueryReachable: async () => undefined };
  await checkServices(target, noServing, { serving: false });
  assert.equal(asked, false);
});

test("an unreachable BigQuery stops the run with exit 2 naming --project; the bucket lock is released", async () => {
  const bucket = await newBucket();
  const result = await gcpRun(bucket);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`--project ${emu.project}: BigQuery could not be reached`));
  assert.equal(api.requests.length, 0);
  assert.equal(await lockExists(bucket), false);
});

test("the bucket lock: created with ifGenerationMatch 0, a second taker fails naming the first, release deletes it", async () => {
  const bucket = await newBucket();
  const first = await acquireBucketLock({ project: emu.project, bucket: bucket, runId: "run-first", now: new Date() });
  const body = JSON.parse((await storage().bucket(bucket).file(BUCKET_LOCK_OBJECT).download())[0].toString());
  assert.deepEqual(body, first.holder);
  assert.equal(body.pid, process.pid);
  await assert.rejects(acquireBucketLock({ project: emu.project, bucket: bucket, runId: "run-second" }), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, new RegExp(`^--bucket ${bucket} is in use by run run-first \\(pid ${process.pid} on host .*, since ${first.holder.started_at}\\)`));
    return true;
  });
  // A second CLI run into the same bucket fails at the start, naming the first, and leaves its lock alone.
  const second = await gcpRun(bucket);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /is in use by run run-first \(pid \d+ on host /);
  assert.equal(api.requests.length, 0);
  assert.equal(await lockExists(bucket), true);
  await first.release();
  assert.equal(await lockExists(bucket), false);
});

test("a lock older than --lockStaleHours is taken over with a message, then released when the run ends", async () => {
  const bucket = await newBucket();
  // Held by this (live) process, so only its age can make it stale.
  await acquireBucketLock({ project: emu.project, bucket: bucket, runId: "run-old", now: new Date(Date.now() - 3 * 3_600_000) });
  const fresh = await gcpRun(bucket, ["--lockStaleHours", "4"]);
  assert.equal(fresh.code, 2);
  assert.match(fresh.stderr, /is in use by run run-old /);
  assert.equal(await lockExists(bucket), true);
  const stale = await gcpRun(bucket, ["--lockStaleHours", "2"]);
  assert.equal(stale.code, 2, stale.stderr);
  assert.match(stale.stderr, new RegExp(`taking over gs://${bucket}/lake/state/run.lock from run run-old .*: it is older than 2 h`));
  assert.match(stale.stderr, /BigQuery could not be reached/);
  assert.equal(await lockExists(bucket), false);
});

test("two runs into one bucket: the second fails at the start naming the first; the lock is gone after the first", async () => {
  const bucket = await newBucket();
  const args = ["run", "--config", heldConfig, "--sink", "gcp", "--project", emu.project, "--bucket", bucket, "--bigtableInstance", "serving", "--location", "US"];
  const first = startCli(args, emu.env);
  await held.requested(1); // the first run is fetching: it passed the preflight and holds the lock
  assert.equal(await lockExists(bucket), true);
  const second = await runCli(args, emu.env);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`--bucket ${bucket} is in use by run \\S+ \\(pid ${first.child.pid} on host `));
  held.stopHolding();
  const done = await first.done;
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.match(done.stdout, /: succeeded/);
  assert.equal(await lockExists(bucket), false);
});
