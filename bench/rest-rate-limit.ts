/**
 * A 20 req/s source limit held over 30 s with 16 work items in flight through readRest on the
 * direct runner: the achieved rate (request starts at the demo API) must be within 5% of 20/s,
 * and no 1-second window may hold more than 21 starts.
 *   node scripts/build.js && node dist/bench/rest-rate-limit.js [seconds]
 */
import { withName, type Root } from "apache-beam";
import { directRunner } from "apache-beam/runners/direct_runner";
import { startRemoteDemoApi, stationRequestsSource } from "./rest-demo-server";
import { resetGates } from "../sources/rest/rate-limit";
import { readRest } from "../sources/rest/read-rest";

const RATE = 20;
const SECONDS = Number(process.argv[2] ?? 30);
const REQUESTS = RATE * SECONDS + 1;

async function main(): Promise<void> {
  const api = await startRemoteDemoApi({ stations: REQUESTS, readingsDays: 1 });
  const source = await stationRequestsSource(api, { name: "bench_rate", latencyMs: 50, rateLimit: RATE });
  resetGates();
  await api.resetStats();
  await directRunner().run((root: Root) => {
    const out = root.apply(readRest(source, { runId: "bench", maxWorkers: 16 }));
    out.pages.map(withName("Ignore", function ignore(p: unknown) {
      return p;
    }));
  });
  const starts = (await api.stats()).arrivals.filter((a) => a.path.startsWith("/v3/getStationHourlyAvg")).map((a) => a.at);
  await api.close();
  const span = (starts[starts.length - 1] - starts[0]) / 1000;
  const rate = (starts.length - 1) / span;
  let maxWindow = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i] - starts[j] >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  const deviation = Math.abs(rate - RATE) / RATE;
  console.log(`requests=${starts.length} span=${span.toFixed(2)}s achieved=${rate.toFixed(3)} req/s target=${RATE} deviation=${(deviation * 100).toFixed(2)}% max-in-any-1s=${maxWindow}`);
  if (starts.length !== REQUESTS) throw new Error(`expected ${REQUESTS} requests, saw ${starts.length}`);
  if (deviation > 0.05 || maxWindow > RATE + 1) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
