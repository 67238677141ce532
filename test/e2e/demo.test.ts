import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { DEFAULT_API_KEY, DEFAULT_BEARER_TOKEN } from "../../sources/demo-api/server";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(ROOT, "bin", "api2lake.js");

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Runs `api2lake demo` into a fresh folder with extra environment variables; fails unless it exits 0. */
function runDemo(env: Record<string, string> = {}) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-demo-"));
  const run = spawnSync(process.execPath, [BIN, "demo", "--out", out], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ...env } });
  assert.equal(run.status, 0, `demo exited ${run.status}: ${run.stderr}\n${run.stdout}`);
  return { out: out, run: run };
}

// The plain demo, run once and shared by the tests below.
let plain: ReturnType<typeof runDemo> | undefined;
const plainDemo = () => (plain ??= runDemo());

test("`api2lake demo` (npm start) lands every preset, dead-letters bad input, and keeps secrets out", async () => {
  const { out, run } = plainDemo();
  assert.match(run.stdout, /succeeded/);

  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    for (const table of ["products", "customers", "sales", "readings", "postings", "drivers", "vehicle_stats", "invoices"]) {
      const rows = await warehouse.query(`SELECT count(*) AS n FROM hub.${table}`);
      assert.ok(Number(rows[0].n) > 0, `hub.${table} is empty`);
    }
    for (const table of ["sensor_daily_averages", "jobs_by_location", "jobs_by_skill"]) {
      const rows = await warehouse.query(`SELECT count(*) AS n FROM dataproducts.${table}`);
      assert.ok(Number(rows[0].n) > 0, `dataproducts.${table} is empty`);
    }
    const customers = await warehouse.query("SELECT customer_id, phone_e164 FROM hub.customers WHERE phone_e164 IS NOT NULL LIMIT 5");
    for (const c of customers) assert.match(String(c.phone_e164), /^\+[1-9]\d{6,14}$/);
    const errors = await warehouse.query("SELECT error FROM lake.sales_error_records");
    assert.ok(errors.some((e) => /field "quantity": expected integer, got string "many"/.test(String(e.error))), "the sale with quantity \"many\" is not in lake.sales_error_records");
  } finally {
    await warehouse.close();
  }

  const deadFiles = filesUnder(path.join(out, "lake", "deadletter", "sales"));
  assert.ok(deadFiles.length > 0, "no dead-letter files for sales");
  const letters = deadFiles.flatMap((f) => fs.readFileSync(f, "utf8").trim().split("\n")).map((l) => JSON.parse(l));
  assert.ok(letters.some((l) => l.stage === "parse" && /not a JSON object/.test(l.error)), "the bare-number sale has no parse dead letter");

  const manifests = filesUnder(path.join(out, "runs")).filter((f) => f.endsWith(".json") && path.dirname(f) === path.join(out, "runs"));
  assert.equal(manifests.length, 1);
  const manifest = JSON.parse(fs.readFileSync(manifests[0], "utf8"));
  assert.equal(manifest.status, "succeeded");
  assert.ok(manifest.checks.length >= 16 && manifest.checks.every((c: { ok: boolean }) => c.ok));
  const sales = manifest.entities.sales;
  assert.ok(sales.parse_failed > 0 && sales.validate_failed > 0);
  assert.equal(sales.fetched, sales.valid + sales.parse_failed + sales.validate_failed + sales.normalize_failed);
  // source key paths escape a dot inside a key (model/entity-schema.ts)
  assert.equal(manifest.name_mappings.readings["PM2\\.5"], "pm2_5");
  assert.equal(manifest.name_mappings.readings["T\\. int\\."], "t_int");

  for (const file of filesUnder(out).filter((f) => !f.endsWith(".duckdb") && !f.includes(`${path.sep}serving${path.sep}`))) {
    const text = fs.readFileSync(file, "utf8");
    assert.ok(!text.includes(DEFAULT_API_KEY) && !text.includes(DEFAULT_BEARER_TOKEN), `a secret leaked into ${file}`);
  }
  assert.ok(!run.stdout.includes(DEFAULT_API_KEY) && !run.stderr.includes(DEFAULT_API_KEY), "a secret leaked into the demo's output");
});

/** Every hub and dataproducts table as sorted JSON rows, without the per-run columns. */
async function landedTables(out: string): Promise<Record<string, string[]>> {
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  try {
    const tables = await warehouse.query("SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('hub', 'dataproducts') ORDER BY 1, 2");
    const landed: Record<string, string[]> = {};
    for (const table of tables) {
      const rows = await warehouse.query(`SELECT * FROM ${table.s}.${table.t}`);
      const perRun = new Set(["_run_id", "_ingested_at"]);
      landed[`${table.s}.${table.t}`] = rows.map((r) => JSON.stringify(r, (k, v) => (perRun.has(k) ? undefined : typeof v === "bigint" ? String(v) : v))).sort();
    }
    return landed;
  } finally {
    await warehouse.close();
  }
}

test("the demo lands the same hub and data products when the direct runner spills every 50 elements to disk", async () => {
  const spillRoot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-demo-spill-")), "spill");
  const spilled = runDemo({ API2LAKE_SPILL_ROWS: "50", API2LAKE_SPILL_DIR: spillRoot });
  // The run created the spill root (it spilled) and left nothing in it.
  assert.deepEqual(fs.readdirSync(spillRoot), []);
  const expected = await landedTables(plainDemo().out);
  assert.ok(Object.keys(expected).length >= 11 && expected["hub.customers"].length > 0);
  assert.deepEqual(await landedTables(spilled.out), expected);
});
