import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { executeRun } from "../../pipeline/run";
import { validateSourceConfig } from "../../sources/rest/config-loader";
import { openWarehouse } from "../../sinks/open-backends";
import { json, query, startServer, type LocalServer } from "./helpers";

/**
 * Issue 9's inputs through a whole run on the direct runner (read, clean, lake, warehouse, manifest):
 * what failed silently before now lands exactly, and the run succeeds (exit 0).
 */

let server: LocalServer;
const DEEP = '{"id":2,"x":' + "[".repeat(5000) + "]".repeat(5000) + "}";

before(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (bytes: Buffer, type: string) => {
      res.writeHead(200, { "content-type": type, "content-length": String(bytes.length) });
      res.end(bytes);
    };
    switch (url.pathname) {
      case "/capped": {
        // 120 records, never more than 50 per page whatever the limit, no total in the body.
        const offset = Number(query(req).get("offset"));
        const limit = Math.min(50, Number(query(req).get("limit")));
        const all = Array.from({ length: 120 }, (_, i) => ({ id: i + 1 }));
        return json(res, { data: all.slice(offset, offset + limit) });
      }
      case "/cursor": {
        const after = query(req).get("after") ?? "";
        const next: Record<string, [number[], string]> = { "": [[1, 2], "c-1"], "c-1": [[3, 4], "c-2"], "c-2": [[5], "c-3"], "c-3": [[], "c-3"] };
        const page = next[after];
        return json(res, { data: page[0].map((id) => ({ id: id })), pagination: { endCursor: page[1], hasNextPage: true } });
      }
      case "/latin1":
        return send(Buffer.from('{"data":[{"id":1,"name":"Müller"},{"id":2,"name":"Ærø"}]}', "latin1"), "application/json; charset=ISO-8859-1");
      case "/bigids":
        return send(Buffer.from('{"data":[{"id":1234567890123456789,"v":1},{"id":1234567890123456790,"v":2},{"id":9007199254740993,"v":3},{"id":9007199254740992,"v":4}]}'), "application/json");
      case "/nonfinite":
        return send(Buffer.from('{"data":[{"id":1,"co":NaN,"pm":20},{"id":2,"co":-Infinity,"pm":Infinity},{"id":3,"co":0.4,"pm":12}]}'), "application/json");
      case "/deep":
        return send(Buffer.from(`{"data":[{"id":1},${DEEP},{"id":3}]}`), "application/json");
    }
    json(res, { message: "Not Found" }, 404);
  });
});
after(async () => server.close());

function readLake(out: string, entity: string): { text: string; rows: Record<string, unknown>[] } {
  const dir = path.join(out, "lake", "raw", entity);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name)));
  };
  walk(dir);
  const text = files.sort().map((f) => fs.readFileSync(f, "utf8")).join("");
  return { text: text, rows: text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)) };
}

test("a run over messy APIs lands every record exactly and succeeds", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-messy-"));
  const source = validateSourceConfig({
    name: "messy",
    baseUrl: server.url,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5000 },
    entities: {
      capped: { path: "/capped", primaryKey: ["id"], paginator: { type: "offset", limit: 100 } },
      cursor_end: { path: "/cursor", primaryKey: ["id"], paginator: { type: "cursor", cursorPath: "pagination.endCursor", hasMorePath: "pagination.hasNextPage" } },
      latin1: { path: "/latin1", primaryKey: ["id"] },
      bigids: { path: "/bigids", primaryKey: ["id"] },
      nonfinite: { path: "/nonfinite", primaryKey: ["id"] },
      deep: { path: "/deep", primaryKey: ["id"] },
      gone: { path: "/gone", primaryKey: ["id"], responseActions: [{ status: 404, action: "ignore" }] },
    },
  }, "test/messy.yaml", { env: {} });
  const manifest = await executeRun({ sources: [source], entities: "ALL", options: { out: out, runner: "direct", requestConcurrency: 2 } });
  assert.equal(manifest.status, "succeeded", manifest.errors.join("; "));
  const e = manifest.entities;
  assert.deepEqual([e.capped.fetched, e.capped.kept, e.capped.pages], [120, 120, 4]);
  assert.deepEqual([e.cursor_end.kept, e.cursor_end.fetch_failed_pages], [5, 0]);
  assert.deepEqual([e.latin1.kept, e.bigids.kept, e.bigids.duplicates], [2, 4, 0]);
  assert.deepEqual([e.nonfinite.kept, e.nonfinite.non_finite_nulled], [3, 3]);
  assert.deepEqual([e.deep.fetched, e.deep.kept, e.deep.parse_failed], [3, 2, 1]);
  assert.deepEqual([e.gone.pages, e.gone.ignored_pages, e.gone.fetched, e.gone.fetch_failed_pages], [1, 1, 0, 0]);
  assert.ok(manifest.checks.every((c) => c.ok), JSON.stringify(manifest.checks.filter((c) => !c.ok)));

  // The raw lake holds the values as the API meant them.
  const latin1 = readLake(out, "latin1");
  assert.ok(latin1.text.includes('"name":"Müller"') && latin1.text.includes('"name":"Ærø"'), latin1.text);
  assert.ok(!latin1.text.includes("\ufffd"));
  const bigids = readLake(out, "bigids");
  assert.deepEqual(bigids.rows.map((r) => r.id).sort(), ["1234567890123456789", "1234567890123456790", "9007199254740992", "9007199254740993"]);
  assert.deepEqual(readLake(out, "capped").rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 120 }, (_, i) => i + 1));
  const nonfinite = readLake(out, "nonfinite").rows.sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(nonfinite.map((r) => [r.co, r.pm]), [[null, 20], [null, null], [0.4, 12]]);

  assert.deepEqual(readLake(out, "gone_requests").rows.map((r) => [r.status, r.ignored]), [[404, "response action {status 404} -> ignore (HTTP 404)"]]);

  const warehouse = await openWarehouse({ kind: "local", out: out });
  try {
    assert.deepEqual((await warehouse.query("SELECT name FROM hub.latin1 ORDER BY id")).map((r) => r.name), ["Müller", "Ærø"]);
    assert.deepEqual((await warehouse.query("SELECT id FROM hub.deep ORDER BY id")).map((r) => Number(r.id)), [1, 3]);
    const dead = await warehouse.query("SELECT stage, error, payload FROM lake.deep_error_records");
    assert.deepEqual(dead.map((d) => [d.stage, d.error, d.payload]), [["parse", "record nested deeper than 64 levels on page 1", DEEP]]);
  } finally {
    await warehouse.close();
  }
});
