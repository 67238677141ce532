import { test } from "node:test";
import * as assert from "node:assert/strict";
import { groupBy, impulse, parDo, split, withName, type PCollection, type Root } from "apache-beam";
import { runCollecting } from "./direct";
import { payloadHash } from "../../transforms/lineage";
import { keyOf, pickLatest } from "../../transforms/dedupe";
import type { Rejected } from "../../transforms/dead-letters";
import { compileEntityCleaner, type EntityCleaner } from "../../pipeline/entity-cleaner";
import { entitySchema } from "../../model/source-config";
import type { RestRecord } from "../../sources/rest/work-item";
import type { Row } from "../../model/row";

/** Data enters through impulse + a generator (never beam.create); `items` is captured as JSON data. */
function source<T>(root: Root, items: T[], label = "GenerateItems"): PCollection<T> {
  const data = JSON.stringify(items);
  return root.apply(withName("Start" + label, impulse())).flatMap(withName(label, function* generate() { yield* JSON.parse(data) as T[]; }));
}

const byJson = (xs: unknown[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/**
 * The cleaning chain as production runs it (pipeline/graph.ts): `compileEntityCleaner` compiled per
 * bundle, then the dedupe by primary key (`keyOf` + `pickLatest`), on the direct runner.
 */
test("cleaning chain on the direct runner: compileEntityCleaner then the graph's dedupe", async () => {
  const customers = entitySchema.parse({
    path: "/customers",
    primaryKey: ["customer_id"],
    orderBy: "updated_at",
    explode: ["tags"],
    fields: { customer_id: { type: "string", required: true } },
    phones: { phone: { region: "FR" } },
    dates: { signup_date: { formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "date", required: true } },
  });
  const at = "2024-03-01T00:00:00.000Z";
  // c1's key is sent as "Customer ID": its children still point at the landed key customer_id.
  const records: RestRecord[] = [
    { source: "s", entity: "customers", record: { "Customer ID": "c1", Phone: "06 12 34 56 78", "Signup Date": "31/01/2024", updatedAt: "2024-02-01T10:00:00Z", address: { city: "Lyon" }, tags: ["a"] }, _source: "/customers", _page: "1", fetched_at: at },
    { source: "s", entity: "customers", record: { "Customer ID": "c1", Phone: "+33 6 12 34 56 79", "Signup Date": "2024-01-31", updatedAt: "2024-02-02T10:00:00Z", address: { city: "Paris" }, tags: ["b", "c"] }, _source: "/customers", _page: "2", fetched_at: at },
    { source: "s", entity: "customers", record: { customer_id: "c2", Phone: "n/a", "Signup Date": "31/31/2024", updatedAt: "2024-02-01T10:00:00Z" }, _source: "/customers", _page: "2", fetched_at: at },
    { source: "s", entity: "customers", record: { Phone: "0612345678", "Signup Date": "2024-01-01" }, _source: "/customers", _page: "3", fetched_at: at },
    { source: "s", entity: "customers", record: [1, 2] as unknown as Row, _source: "/customers", _page: "3", fetched_at: at },
  ];
  type Cleaned = { clean: { row: Row; children: Record<string, Row[]> } } | { dead: { stage: string; reason: string } };
  const out = await runCollecting((root) => {
    const cleaned = source(root, records).apply(withName("Clean", parDo({
      startBundle: function (this: { cleaner?: EntityCleaner }) {
        this.cleaner = compileEntityCleaner(customers, { maxRecordBytes: 10_000 });
      },
      process: function* (this: { cleaner: EntityCleaner }, r: RestRecord) {
        const result = this.cleaner.clean(r.record, { runId: "run1", source: r._source, page: r._page, fetchedAt: r.fetched_at });
        if (result.ok) yield { clean: { row: result.row, children: result.children } } as Cleaned;
        else yield { dead: { stage: result.stage, reason: result.reason } } as Cleaned;
      },
    }))).apply(withName("SplitCleaned", split<{ clean: { row: Row; children: Record<string, Row[]> }; dead: { stage: string; reason: string } }>(["clean", "dead"])));
    const kept = cleaned.clean
      .apply(withName("KeyByPrimaryKey", groupBy((c: { row: Row }) => keyOf(c.row, customers.primaryKey))))
      .apply(withName("KeepLatest", parDo({
        process: function* (group: { key: string; value: Iterable<{ row: Row; children: Record<string, Row[]> }> }) {
          const versions = [...group.value];
          const picked = pickLatest(versions.map((v) => v.row), { primaryKey: customers.primaryKey, orderBy: customers.orderBy });
          for (const row of picked.kept) yield { row: row, children: versions.find((v) => v.row === row)?.children ?? {} };
        },
      })));
    return { kept: kept, dead: cleaned.dead };
  });
  const kept = out.kept as { row: Row; children: Record<string, Row[]> }[];
  assert.equal(kept.length, 1);
  assert.deepEqual({ ...kept[0].row, _payload_hash: undefined }, {
    customer_id: "c1", phone: "+33 6 12 34 56 79", signup_date: "2024-01-31", updated_at: "2024-02-02T10:00:00Z", address_city: "Paris",
    phone_e164: "+33612345679", phone_valid: true,
    _ingested_at: at, _run_id: "run1", _source: "/customers", _page: "2", _payload_hash: undefined,
  });
  assert.equal(kept[0].row._payload_hash, payloadHash(records[1].record));
  assert.deepEqual(kept[0].children, { tags: [
    { parent_customer_id: "c1", _index: 0, value: "b", _ingested_at: at, _run_id: "run1", _source: "/customers", _page: "2", _payload_hash: payloadHash(records[1].record) },
    { parent_customer_id: "c1", _index: 1, value: "c", _ingested_at: at, _run_id: "run1", _source: "/customers", _page: "2", _payload_hash: payloadHash(records[1].record) },
  ] }, "only the kept version's children, with its lineage");
  assert.deepEqual(byJson((out.dead as { stage: string; reason: string }[]).map((d) => [d.stage, d.reason])), byJson([
    ["parse", "not a JSON object: got an array"],
    ["validate", 'missing required field "customer_id"'],
    ["normalize", 'field "signup_date": unparseable date "31/31/2024" (tried iso, dd/MM/yyyy)'],
  ]));
});
