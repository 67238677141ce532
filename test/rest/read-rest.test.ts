import { test, before, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withName, type PCollection, type Root } from "apache-beam";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import { startDemoApi, type DemoApi } from "../../sources/demo-api/server";
import { readRest } from "../../sources/rest/read-rest";
import { resetGates } from "../../sources/rest/rate-limit";
import { fetchWorkItem, planWorkItems, type RestElement } from "../../sources/rest/work-item";
import { commerceSource, fleetSource, otherSources, SECRETS } from "./demo-sources";
import { collect, readLines } from "./helpers";

requireForSerialization("fs", fs);

let api: DemoApi;
const SIZES = { products: 120, customers: 200, sales: 450, drivers: 45, invoices: 130, stations: 2, readingsDays: 1, jobs: 60, vehicleStatsPerDay: 96 };

before(async () => {
  api = await startDemoApi({ port: 0, seed: 11, sizes: SIZES });
});
after(async () => {
  await api.close();
});


test("readRest on the direct runner: same records as the plain function, dead letters on their own output", async () => {
  resetGates();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "read-rest-"));
  const files = { records: path.join(dir, "records.ndjson"), pages: path.join(dir, "pages.ndjson"), dead: path.join(dir, "dead.ndjson") };
  const commerce = commerceSource(api.url, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50, timeoutMs: 1000 } });
  const fleet = fleetSource(api.url);
  const misc = otherSources(api.url);
  const range = { from: new Date("2024-02-01T00:00:00Z"), to: new Date("2024-02-03T00:00:00Z") };
  // Expected, computed without Beam and without faults.
  const expected: RestElement[] = [];
  for (const [source, entities] of [[commerce, ["products", "customers"]], [fleet, ["drivers", "vehicle_stats"]], [misc, ["readings", "invoices"]]] as const) {
    for (const item of planWorkItems(source, { entities: entities, range: range })) expected.push(...(await fetchWorkItem(source, item, { runId: "r" })));
  }
  const expectedRecords = expected.flatMap((e) => ("record" in e ? [e.record] : []));
  // Customers page 3 keeps failing; drivers get a burst of 503s.
  api.setFaults([
    { path: "/commerce/customers", kind: "status", status: 500, page: "3" },
    { path: "/fleet/drivers", kind: "status", status: 503, times: 2 },
  ]);
  await directRunner().run((root: Root) => {
    const outputs = [
      root.apply(readRest(commerce, { runId: "run-1", entities: ["products", "customers"], maxWorkers: 4 })),
      root.apply(readRest(fleet, { runId: "run-1", entities: ["drivers", "vehicle_stats"], range: range })),
      root.apply(readRest(misc, { runId: "run-1", entities: ["readings", "invoices"] })),
    ];
    outputs.forEach((out, i) => {
      collect(out.records, files.records, `CollectRecords${i}`);
      collect(out.pages, files.pages, `CollectPages${i}`);
      collect(out.deadLetters, files.dead, `CollectDeadLetters${i}`);
    });
  });
  const records = readLines(files.records);
  const pages = readLines(files.pages);
  const dead = readLines(files.dead);
  const key = (r: any) => `${r.source}|${r.entity}|${r._source}|${r._page}|${JSON.stringify(r.record)}`;
  const lostCustomers = expectedRecords.filter((r) => r.entity === "customers" && Number(r._page) >= 3);
  const wanted = expectedRecords.filter((r) => !lostCustomers.includes(r)).map(key).sort();
  assert.equal(records.length, wanted.length);
  assert.deepEqual(records.map(key).sort(), wanted);
  assert.ok(records.every((r) => typeof r._source === "string" && r._source.startsWith("/") && typeof r._page === "string"));
  const fetchFailures = dead.filter((d) => d.stage === "fetch");
  assert.equal(fetchFailures.length, 1);
  assert.equal(fetchFailures[0].entity, "customers");
  assert.equal(fetchFailures[0].run_id, "run-1");
  assert.equal(JSON.parse(fetchFailures[0].payload).attempts, 3);
  const parseRejects = dead.filter((d) => d.stage === "parse").length;
  assert.equal(pages.reduce((n, p) => n + p.records + p.rejected, 0), records.length + parseRejects, "fetched = emitted + rejected");
  assert.equal(new Set(pages.filter((p) => p.entity === "vehicle_stats").map((p) => JSON.stringify(p.slice))).size, 2);
  const everything = [records, pages, dead].map((x) => JSON.stringify(x)).join("\n");
  for (const secret of SECRETS) assert.ok(!everything.includes(secret), "a secret reached the outputs");
});

test("readRest refuses an unknown entity while the graph is built", () => {
  assert.throws(() => readRest(commerceSource(api.url), { runId: "r", entities: ["orders"] }), /unknown entity "orders" \(known: products, customers, sales\)/);
});
