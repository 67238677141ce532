import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { acquireOutLock, lockPath, readLockHolder } from "../../pipeline/out-lock";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { runCli, startCli } from "../support/cli-process";
import { heldSourceYaml, startHeldServer, type HeldServer } from "../support/held-server";

let server: HeldServer;
before(async () => {
  server = await startHeldServer();
});
after(async () => server?.close());

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `api2lake-${prefix}-`));
}

function configFile(dir: string, pathText = "/slow/items"): string {
  const file = path.join(dir, "source.yaml");
  fs.writeFileSync(file, heldSourceYaml(server.url, "held", pathText));
  return file;
}

test("the lock names its holder; a second taker is refused; a dead pid's lock is taken over", () => {
  const out = tmp("lock");
  const first = acquireOutLock(out, "run-a", new Date("2026-11-29T10:00:00Z"));
  assert.deepEqual(readLockHolder(out), { run_id: "run-a", pid: process.pid, host: os.hostname(), started_at: "2026-11-29T10:00:00.000Z" });
  assert.throws(() => acquireOutLock(out, "run-b"), {
    message: `--out ${out} is in use by run run-a (pid ${process.pid} on host ${os.hostname()}, since 2026-11-29T10:00:00.000Z): wait for it to finish (or, if that process is gone, remove ${lockPath(out)})`,
  });
  first.release();
  assert.equal(fs.existsSync(lockPath(out)), false);

  const gone = spawnSync(process.execPath, ["-e", ""]).pid!; // a pid that has exited
  fs.writeFileSync(lockPath(out), JSON.stringify({ run_id: "crashed", pid: gone, host: os.hostname(), started_at: "2026-11-29T09:00:00.000Z" }));
  const taken = acquireOutLock(out, "run-c");
  assert.equal(readLockHolder(out)!.run_id, "run-c");
  taken.release();
});

test("an --out that cannot be written fails before any request, naming the reason", async () => {
  const dir = tmp("ro");
  const file = configFile(dir, "/fast/items");
  const before = server.requests.length;
  const blocked = path.join(dir, "a-file");
  fs.writeFileSync(blocked, "");
  const underFile = await runCli(["run", "--config", file, "--out", path.join(blocked, "out")]);
  assert.equal(underFile.code, 2);
  assert.match(underFile.stderr, /--out .*a-file\/out cannot be created \(E(NOTDIR|EXIST)\)/);
  // A read-only file system (sysfs refuses writes even to root).
  const readOnly = await runCli(["run", "--config", file, "--out", "/sys/api2lake-out"]);
  assert.equal(readOnly.code, 2);
  assert.match(readOnly.stderr, /--out \/sys\/api2lake-out cannot be created \((EPERM|EACCES|EROFS)\)/);
  assert.equal(server.requests.length, before, "nothing was fetched");
});

test("two runs into one --out: the second fails at the start naming the first; `query` meanwhile is refused the same way", async () => {
  const dir = tmp("two");
  const file = configFile(dir);
  const out = path.join(dir, "out");
  const first = startCli(["run", "--config", file, "--out", out]);
  await server.requested(1);
  const seen = server.requests.length;
  const holder = readLockHolder(out)!;
  assert.equal(holder.pid, first.child.pid);

  const second = await runCli(["run", "--config", file, "--out", out]);
  assert.equal(second.code, 2, second.stdout + second.stderr);
  assert.match(second.stderr, new RegExp(`is in use by run ${holder.run_id} \\(pid ${holder.pid} on host `));
  const query = await runCli(["query", "SELECT count(*) AS n FROM lake.items", "--out", out]);
  assert.equal(query.code, 2, query.stdout + query.stderr);
  assert.match(query.stderr, new RegExp(`it is in use by run ${holder.run_id} \\(pid ${holder.pid}`));
  assert.equal(server.requests.length, seen, "neither fetched anything");

  server.stopHolding();
  const done = await first.done;
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.equal(fs.existsSync(lockPath(out)), false, "the lock is released");
  const after = await runCli(["query", "SELECT count(*) AS n FROM hub.items", "--out", out]);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout.trim(), '{"n":15}');
});

test("a DuckDB session open in another process makes a run fail at the start, before any fetching", async () => {
  const dir = tmp("busy");
  const file = configFile(dir, "/fast/items");
  const out = path.join(dir, "out");
  // This test process plays the analyst's open DuckDB session.
  const session = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  const before = server.requests.length;
  try {
    const run = await runCli(["run", "--config", file, "--out", out]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /the warehouse .*warehouse\.duckdb is open in another process \(.*lock.*\): close that session and try again/i);
  } finally {
    await session.close();
  }
  assert.equal(server.requests.length, before);
  assert.equal(fs.existsSync(lockPath(out)), false, "the failed run released its lock");
});

test("`query` is read-only and refuses a missing warehouse without creating one", async () => {
  const empty = path.join(tmp("q"), "nothing-here");
  const missing = await runCli(["query", "SELECT 1", "--out", empty]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no warehouse at .*nothing-here\/warehouse\.duckdb \(check --out; a run creates it\)/);
  assert.equal(fs.existsSync(empty), false, "no empty warehouse was created");

  const dir = tmp("q");
  const out = path.join(dir, "out");
  const run = await runCli(["run", "--config", configFile(dir, "/fast/items"), "--out", out]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const drop = await runCli(["query", "DROP TABLE hub.items", "--out", out]);
  assert.equal(drop.code, 2);
  assert.match(drop.stderr, /read-only/);
  const count = await runCli(["query", "SELECT count(*) AS n FROM hub.items", "--out", out]);
  assert.equal(count.stdout.trim(), '{"n":15}');
});
