import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { startCli } from "../support/cli-process";
import { EmbeddedServingStore } from "../../sinks/serving-embedded";

// Wrong input from the user is a usage error (exit 2, one line naming the input), never a Node stack or an internal hint.

test("serve read of a missing table names the tables that exist, exit 2", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "usage-serve-"));
  const store = new EmbeddedServingStore(out);
  await store.ensureTable({ table: "customers", rowKey: "{id}", families: { f: { maxVersions: 1 } }, columns: {} } as never);
  await store.close();
  const result = await startCli(["serve", "read", "customer", "--out", out]).done;
  assert.equal(result.code, 2);
  assert.match(result.stderr, /serving table "customer" does not exist in .*serving \(tables there: customers\)/);
  assert.doesNotMatch(result.stderr, /ensureTable|at .*\.js:\d+/);
});

test("demo-api with a port out of range or in use: exit 2 naming --port", async () => {
  const range = await startCli(["demo-api", "--port", "99999"]).done;
  assert.equal(range.code, 2);
  assert.match(range.stderr, /--port: 99999 is not a TCP port/);
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", () => resolve()));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    const busy = await startCli(["demo-api", "--port", String(port)]).done;
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, new RegExp(`--port ${port} is in use by another process`));
    assert.doesNotMatch(busy.stderr, /EADDRINUSE|at .*\.js:\d+/);
  } finally {
    holder.close();
  }
});
