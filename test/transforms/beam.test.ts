import { test } from "node:test";
import * as assert from "node:assert/strict";
import { P, flatten, impulse, withName, type PCollection, type Root } from "apache-beam";
import { runCollecting } from "./direct";
import { addLineage, payloadHash, type SourcedRecord } from "../../transforms/lineage";
import { sanitizeNames } from "../../transforms/names";
import { flattenRecords } from "../../transforms/flatten";
import { validateRecords } from "../../transforms/validation";
import { normalizePhones } from "../../transforms/phones";
import { normalizeDates } from "../../transforms/dates";
import { dedupeLatest } from "../../transforms/dedupe";
import { toDeadLetters, type Rejected } from "../../transforms/dead-letters";
import type { Row } from "../../model/row";
import type { DeadLetter } from "../../model/dead-letter";

/** Data enters through impulse + a generator (never beam.create); `items` is captured as JSON data. */
function source<T>(root: Root, items: T[], label = "GenerateItems"): PCollection<T> {
  const data = JSON.stringify(items);
  return root.apply(withName("Start" + label, impulse())).flatMap(withName(label, function* generate() { yield* JSON.parse(data) as T[]; }));
}

const byJson = (xs: unknown[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

test("cleaning chain on the direct runner: lineage, names, flatten, validate, phones, dates, dedupe, dead letters", async () => {
  const records: SourcedRecord[] = [
    { record: { "Customer ID": "c1", Phone: "06 12 34 56 78", "Signup Date": "31/01/2024", updatedAt: "2024-02-01T10:00:00Z", address: { city: "Lyon" }, tags: ["a"] }, _source: "/customers", _page: "1", fetched_at: "2024-03-01T00:00:00.000Z" },
    { record: { "Customer ID": "c1", Phone: "+33 6 12 34 56 79", "Signup Date": "2024-01-31", updatedAt: "2024-02-02T10:00:00Z", address: { city: "Paris" }, tags: [] }, _source: "/customers", _page: "2", fetched_at: "2024-03-01T00:00:00.000Z" },
    { record: { "Customer ID": "c2", Phone: "n/a", "Signup Date": "31/31/2024", updatedAt: "2024-02-01T10:00:00Z" }, _source: "/customers", _page: "2", fetched_at: "2024-03-01T00:00:00.000Z" },
    { record: { Phone: "0612345678", "Signup Date": "2024-01-01" }, _source: "/customers", _page: "3", fetched_at: "2024-03-01T00:00:00.000Z" },
    { record: [1, 2], _source: "/customers", _page: "3", fetched_at: "2024-03-01T00:00:00.000Z" },
  ];
  const out = await runCollecting((root) => {
    const lineaged = source(root, records).apply(addLineage({ runId: "run1" }));
    const flat = lineaged.ok.apply(sanitizeNames()).apply(flattenRecords({ explode: ["tags"], primaryKey: ["customer_id"] }));
    const valid = flat.rows.apply(validateRecords({ fields: { customer_id: { type: "string", required: true } }, maxRecordBytes: 10_000 }));
    const phoned = valid.ok.apply(normalizePhones({ phones: { phone: { region: "FR" } } }));
    const dated = phoned.apply(normalizeDates({ dates: { signup_date: { formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "date", required: true } } }));
    const kept = dated.ok.apply(dedupeLatest({ primaryKey: ["customer_id"], orderBy: "updated_at" }));
    const failed = P([lineaged.failed, valid.failed, dated.failed]).apply(withName("CollectFailed", flatten<Rejected>()));
    const letters = failed.apply(toDeadLetters({ runId: "run1", entity: "customers", source: "/customers" }));
    return { kept: kept, children: flat.children, letters: letters };
  });
  const kept = out.kept as Row[];
  assert.equal(kept.length, 1);
  assert.deepEqual({ ...kept[0], _payload_hash: undefined }, {
    customer_id: "c1", phone: "+33 6 12 34 56 79", signup_date: "2024-01-31", updated_at: "2024-02-02T10:00:00Z", address_city: "Paris",
    phone_e164: "+33612345679", phone_valid: true,
    _ingested_at: "2024-03-01T00:00:00.000Z", _run_id: "run1", _source: "/customers", _page: "2", _payload_hash: undefined,
  });
  assert.equal(kept[0]._payload_hash, payloadHash(records[1].record));
  assert.deepEqual((out.children as { field: string; row: Row }[]).map((c) => c.row), [{ customer_id: "c1", _index: 0, value: "a" }]);
  const letters = out.letters as DeadLetter[];
  assert.deepEqual(byJson(letters.map((l) => [l.stage, l.error, l.source, l.run_id, l.entity])), byJson([
    ["validate", "not a JSON object", "/customers", "run1", "customers"],
    ["validate", 'missing required field "customer_id"', "/customers", "run1", "customers"],
    ["normalize", 'field "signup_date": unparseable date "31/31/2024" (tried iso, dd/MM/yyyy)', "/customers", "run1", "customers"],
  ]));
  const garbage = letters.find((l) => l.error.startsWith("field"));
  assert.equal(JSON.parse(garbage!.payload).phone_e164, null);
});
