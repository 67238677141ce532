/**
 * 200 single-page work items against the demo API with 50 ms injected latency, 16 in flight:
 * wall time vs the ideal pages x latency / concurrency = 625 ms (target: within 1.2x).
 * Measured twice: the plain async fetch (a pool of 16 over fetchWorkItem), and readRest on
 * the direct runner (pipeline start-up included, and separately the fetch span from the
 * demo API's arrival times).
 *   node scripts/build.js && node dist/bench/rest-concurrency.js
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withName, type Root } from "apache-beam";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import { startRemoteDemoApi, stationRequestsSource } from "./rest-demo-server";
import { resetGates } from "../sources/rest/rate-limit";
import { readRest } from "../sources/rest/read-rest";
import { fetchWorkItem, planWorkItems } from "../sources/rest/work-item";

requireForSerialization("fs", fs);

const PAGES = 200;
const LATENCY_MS = 50;
const CONCURRENCY = 16;
const IDEAL_MS = (PAGES * LATENCY_MS) / CONCURRENCY;

async function main(): Promise<void> {
  const api = await startRemoteDemoApi({ stations: PAGES, readingsDays: 1 });
  const source = await stationRequestsSource(api, { name: "bench_concurrency", latencyMs: LATENCY_MS });
  const items = planWorkItems(source);
  if (items.length !== PAGES) throw new Error(`expected ${PAGES} work items, got ${items.length}`);

  console.error(`demo API at ${api.url}; ${items.length} work items`);
  // 1. Plain async function, a pool of 16.
  resetGates();
  await api.resetStats();
  let t0 = performance.now();
  let next = 0;
  let records = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) {
      const item = items[next++];
      const out = await fetchWorkItem(source, item, { runId: "bench", maxWorkers: CONCURRENCY });
      records += out.filter((e) => "record" in e).length;
    }
  }));
  const plainMs = performance.now() - t0;

  console.error(`plain pool done in ${plainMs.toFixed(0)} ms`);
  // 2. readRest on the direct runner.
  resetGates();
  await api.resetStats();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-rest-")), "pages.ndjson");
  t0 = performance.now();
  await directRunner().run((root: Root) => {
    const out = root.apply(readRest(source, { runId: "bench", maxWorkers: CONCURRENCY }));
    out.pages.map(withName("CountPages", function countPage(p: unknown) {
      fs.appendFileSync(file, JSON.stringify(p) + "\n");
      return p;
    }));
  });
  const beamMs = performance.now() - t0;
  const beamPages = fs.readFileSync(file, "utf8").trim().split("\n").length;
  const arrivals = (await api.stats()).arrivals.filter((a) => a.path.startsWith("/v3/getStationHourlyAvg"));
  const spanMs = arrivals[arrivals.length - 1].at - arrivals[0].at + LATENCY_MS;
  await api.close();

  const line = (name: string, ms: number) => `${name}: ${ms.toFixed(0)} ms = ${(ms / IDEAL_MS).toFixed(2)}x ideal (${IDEAL_MS} ms)`;
  console.log(`pages=${PAGES} latency=${LATENCY_MS}ms concurrency=${CONCURRENCY} records=${records} beamPages=${beamPages}`);
  console.log(line("plain fetchWorkItem pool", plainMs));
  console.log(line("readRest direct runner, whole pipeline", beamMs));
  console.log(line("readRest direct runner, first to last request + latency", spanMs));
  if (beamPages !== PAGES) throw new Error(`readRest emitted ${beamPages} pages`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
