import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApi, DEFAULT_API_KEY } from "../../sources/demo-api/server";
import { runCli } from "../support/cli-process";
import { packageOf, type LoadedModule } from "../support/loaded-modules";

// What a command loads, read from the CLI process itself: test/support/loaded-modules.js is
// preloaded and writes require.cache (with each module's children) when the process exits.
const ROOT = path.resolve(__dirname, "..", "..", "..");
const PRELOAD = path.join(ROOT, "dist", "test", "support", "loaded-modules.js");

/** Runs `api2lake <args>` (it must exit 0) and returns its stdout and the modules it loaded. */
async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; loaded: LoadedModule[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-modules-"));
  try {
    const file = path.join(dir, "loaded.json");
    const result = await runCli(args, { ...env, NODE_OPTIONS: `--require ${PRELOAD}`, API2LAKE_TEST_LOADED_MODULES: file });
    assert.equal(result.code, 0, result.stderr);
    return { stdout: result.stdout, loaded: JSON.parse(fs.readFileSync(file, "utf8")) as LoadedModule[] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const relative = (file: string) => path.relative(ROOT, file);

test("--version and help load the CLI's own four modules and no package", async () => {
  for (const args of [["--version"], ["help"], ["help", "run"]]) {
    const ids = (await loadedBy(args)).loaded.map((m) => relative(m.id)).filter((id) => id !== relative(PRELOAD));
    assert.deepEqual(ids.sort(), ["bin/api2lake.js", "dist/pipeline/cli.js", "dist/pipeline/options.js", "dist/pipeline/usage-error.js"], args.join(" "));
  }
});

test("run --sink local loads DuckDB and Beam but no Google Cloud client, report or workbook package", async () => {
  const api = await startDemoApi({ port: 0, seed: 42 });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-modules-out-"));
  try {
    const env = { API2LAKE_DEMO_URL: api.url, API2LAKE_DEMO_API_KEY: DEFAULT_API_KEY };
    const run = await loadedBy(["run", "--config", "commerce", "--entities", "customers", "--limit", "20", "--sink", "local", "--out", out], env);
    assert.match(run.stdout, /^run \S+: succeeded$/m);
    const packages = new Set(run.loaded.map((m) => packageOf(m.id)));
    // The list is real: the run's own engines are in it.
    for (const used of ["apache-beam", "@duckdb/node-api", "libphonenumber-js", "pino"]) assert.ok(packages.has(used), `${used} loaded`);
    for (const unused of ["echarts", "exceljs", "@bsull/augurs"]) assert.ok(!packages.has(unused), `${unused} not loaded`);
    // Every require that enters a @google-cloud/* package from outside that family (cached requires included).
    const entries = run.loaded.flatMap((m) =>
      m.children
        .filter((child) => packageOf(child)?.startsWith("@google-cloud/") && !packageOf(m.id)?.startsWith("@google-cloud/"))
        .map((child) => `${relative(m.id)} -> ${packageOf(child)}`),
    );
    // The one entry is Beam's own: its root index re-exports io/pubsub. It goes once graph.ts, sinks/beam-sinks.ts
    // and transforms/dead-letters.ts import from "apache-beam/transforms" and "apache-beam/pvalue" instead of the root.
    assert.deepEqual([...new Set(entries)], ["node_modules/apache-beam/dist/src/apache_beam/io/pubsub.js -> @google-cloud/pubsub"]);
  } finally {
    await api.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
