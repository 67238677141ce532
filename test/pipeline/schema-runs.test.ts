import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sourceSchema } from "../../model/source-config";
import { executeRun } from "../../pipeline/run";
import { openWarehouse } from "../../sinks/open-backends";
import { schemaStatePath } from "../../pipeline/schema-state";
import { schemaCommand } from "../../pipeline/schema-command";
import type { RunManifest } from "../../pipeline/manifest";
import { startServer, json, type LocalServer } from "../rest/helpers";

/** What the test API serves at /things: swapped between runs to play an API that changes. */
let served: unknown[] = [];
let server: LocalServer;
before(async () => {
  server = await startServer((_req, res) => json(res, { data: served }));
});
after(async () => server?.close());

function source(contract?: Record<string, string>) {
  return sourceSchema.parse({
    name: "t",
    baseUrl: server.url,
    entities: { things: { path: "/things", primaryKey: ["id"], ...(contract ? { schema: contract } : {}) } },
  });
}

async function run(out: string, records: unknown[], contract?: Record<string, string>): Promise<RunManifest> {
  served = records;
  const manifest = await executeRun({ sources: [source(contract)], entities: "ALL", options: { out: out, runner: "direct", sink: "local", requestConcurrency: 2 } });
  assert.equal(manifest.status, "succeeded", manifest.errors.join("; "));
  return manifest;
}

async function sql(out: string, text: string): Promise<Record<string, unknown>[]> {
  const warehouse = await openWarehouse({ kind: "local", out: out });
  try {
    return await warehouse.query(text);
  } finally {
    await warehouse.close();
  }
}

const hub = (out: string, columns: string) => sql(out, `SELECT ${columns} FROM hub.things ORDER BY id`);
const types = async (out: string) =>
  Object.fromEntries((await sql(out, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'hub' AND table_name = 'things' AND column_name NOT LIKE '\\_%' ESCAPE '\\'")).map((r) => [r.column_name, r.data_type]));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-schema-"));

test("issue 8: columnName and column_name land in the same columns in every record order", async () => {
  const a = { id: 1, columnName: "x1" };
  const b = { id: 2, columnName: "x2", column_name: "y2" };
  for (const records of [[a, b], [b, a]]) {
    const out = tmp();
    const manifest = await run(out, records);
    assert.deepEqual(await hub(out, "id, column_name, column_name_2"), [
      { id: 1, column_name: null, column_name_2: "x1" },
      { id: 2, column_name: "y2", column_name_2: "x2" },
    ]);
    assert.deepEqual(await sql(out, "SELECT CAST(id AS VARCHAR) AS id, column_name, column_name_2 FROM lake.things ORDER BY id"), [
      { id: "1", column_name: null, column_name_2: "x1" },
      { id: "2", column_name: "y2", column_name_2: "x2" },
    ], "the raw lake table uses the same columns");
    assert.deepEqual(manifest.name_mappings.things, { columnName: "column_name_2", column_name: "column_name", id: "id" });
    assert.deepEqual(manifest.schemas?.things.collisions, [{ path: "columnName", wanted: "column_name", column: "column_name_2", taken_by: "column_name" }]);
  }
});

test("issue 8: a second run that sees the other key first keeps the first run's columns; the schema persists after commit", async () => {
  const out = tmp();
  await run(out, [{ id: 1, columnName: "x1", nested: { a: { b: 1 }, a_b: 2 } }]);
  const state = JSON.parse(fs.readFileSync(path.join(out, schemaStatePath("t", "things")), "utf8"));
  assert.deepEqual(state.columns.map((c: { path: string; column: string }) => [c.path, c.column]), [["columnName", "column_name"], ["id", "id"], ["nested.a.b", "nested_a_b"], ["nested.a_b", "nested_a_b_2"]]);
  const second = await run(out, [{ id: 2, column_name: "y2", columnName: "x2", nested: { a_b: 4, a: { b: 3 } } }]);
  assert.deepEqual(second.schemas?.things.added, ["column_name"]);
  assert.deepEqual(await hub(out, "id, column_name, column_name_2, nested_a_b, nested_a_b_2"), [
    { id: 1, column_name: "x1", column_name_2: null, nested_a_b: 1, nested_a_b_2: 2 },
    { id: 2, column_name: "x2", column_name_2: "y2", nested_a_b: 3, nested_a_b_2: 4 },
  ]);
  assert.deepEqual(await types(out), { id: "BIGINT", column_name: "VARCHAR", nested_a_b: "BIGINT", nested_a_b_2: "BIGINT", column_name_2: "VARCHAR" });
});

test("a run whose API adds a field: evolve adds the column and keeps old rows; freeze dead-letters naming the field", async () => {
  const evolve = tmp();
  await run(evolve, [{ id: 1, a: 1 }]);
  const added = await run(evolve, [{ id: 2, a: 2, b: "2024-01-01T00:00:00Z" }]);
  assert.deepEqual(added.schemas?.things.added, ["b"]);
  assert.deepEqual(await hub(evolve, "id, a, CAST(b AS VARCHAR) AS b"), [{ id: 1, a: 1, b: null }, { id: 2, a: 2, b: "2024-01-01 00:00:00" }]);
  assert.equal((await types(evolve)).b, "TIMESTAMP");

  const freeze = tmp();
  await run(freeze, [{ id: 1, a: 1 }], { newColumns: "freeze" });
  const refused = await run(freeze, [{ id: 2, a: 2, b: "x" }, { id: 3, a: 3 }], { newColumns: "freeze" });
  assert.equal(refused.entities.things.schema_rows_refused, 1);
  assert.equal(refused.entities.things.validate_failed, 1);
  assert.deepEqual(refused.schemas?.things.refused_paths, ["b"]);
  assert.ok(refused.checks.every((c) => c.ok));
  assert.deepEqual(await hub(freeze, "id, a"), [{ id: 1, a: 1 }, { id: 3, a: 3 }]);
  assert.deepEqual(await sql(freeze, "SELECT error FROM lake.things_error_records"), [{ error: 'schema contract: new field "b" (schema.newColumns: freeze)' }]);
  assert.equal("b" in (await types(freeze)), false);
});

test("a type change: evolve lands it in a variant column; freeze dead-letters; discard_value nulls and counts", async () => {
  const evolve = tmp();
  await run(evolve, [{ id: 1, a: 1 }]);
  const changed = await run(evolve, [{ id: 2, a: "many" }]);
  assert.deepEqual(changed.schemas?.things.added_variants, [{ path: "a", type: "string", column: "a__v_string" }]);
  assert.equal(changed.entities.things.schema_variant_values, 1);
  assert.deepEqual(await hub(evolve, "id, a, a__v_string"), [{ id: 1, a: 1, a__v_string: null }, { id: 2, a: null, a__v_string: "many" }]);
  assert.deepEqual(await types(evolve), { id: "BIGINT", a: "BIGINT", a__v_string: "VARCHAR" });

  const freeze = tmp();
  await run(freeze, [{ id: 1, a: 1 }], { typeChanges: "freeze" });
  // a conforming record beside the refused one keeps the run within the outcome rules (kept > 0, <= 50% dead)
  const refused = await run(freeze, [{ id: 2, a: "many" }, { id: 3, a: 3 }], { typeChanges: "freeze" });
  assert.equal(refused.entities.things.schema_rows_refused, 1);
  assert.deepEqual(await sql(freeze, "SELECT error FROM lake.things_error_records"), [{ error: 'schema contract: field "a" (column a, integer) got string "many" (schema.typeChanges: freeze)' }]);

  const discard = tmp();
  await run(discard, [{ id: 1, a: 1 }], { typeChanges: "discard_value" });
  const nulled = await run(discard, [{ id: 2, a: "many" }], { typeChanges: "discard_value" });
  assert.equal(nulled.entities.things.schema_values_discarded, 1);
  assert.deepEqual(await hub(discard, "id, a"), [{ id: 1, a: 1 }, { id: 2, a: null }]);
});

test("api2lake schema <entity> prints the persisted paths, columns, types, variants and collisions", async () => {
  const out = tmp();
  await run(out, [{ id: 1, columnName: "x1", column_name: "y1", n: 1 }]);
  await run(out, [{ id: 2, n: "many" }]);
  const config = path.join(out, "t.yaml");
  fs.writeFileSync(config, `name: t\nbaseUrl: ${server.url}\nentities:\n  things: { path: /things, primaryKey: [id] }\n`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(args.join(" "));
  let code: number;
  try {
    code = await schemaCommand({ config: config, out: out, sink: "local" }, ["things"]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  const lines = printed.join("\n").split("\n");
  assert.match(lines[0], /^t\.things: 4 paths, updated \d{4}-\d{2}-\d{2}T[\d:.]+Z; contract newColumns: evolve, typeChanges: evolve$/);
  assert.deepEqual(lines.slice(2), [
    "path         column         type     from      variants",
    "columnName   column_name_2  string   inferred",
    "column_name  column_name    string   inferred",
    "id           id             integer  inferred",
    "n            n              integer  inferred  string -> n__v_string",
    "",
    "collisions:",
    "  columnName wanted column_name (held by column_name) -> column_name_2",
  ]);
  assert.equal(await schemaCommand({ config: config, out: tmp(), sink: "local" }, ["things"]), 1, "no schema before a first run");
});
