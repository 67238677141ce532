/**
 * Runs the demo API in a child process for the REST benches, so the server's own CPU does not
 * share the event loop with the client being measured (as with a real remote API).
 */
import * as child_process from "child_process";
import * as path from "path";
import { startDemoApi, type DemoStats, type FaultRule } from "../sources/demo-api/server";
import { validateSourceConfig } from "../sources/rest/config-loader";
import type { SourceConfig } from "../model/source-config";

export interface RemoteDemoApi {
  url: string;
  setFaults(rules: FaultRule[]): Promise<void>;
  stats(): Promise<DemoStats>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

export async function startRemoteDemoApi(sizes: Record<string, number>): Promise<RemoteDemoApi> {
  const child = child_process.fork(path.join(__dirname, "rest-demo-server.js"), [JSON.stringify(sizes)], { stdio: "inherit" });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m) => resolve(String(m)));
    child.once("exit", (code) => reject(new Error(`demo API child exited with ${code}`)));
  });
  const control = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(url + route, { method: method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json", "X-API-Key": "demo-key" } });
    if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url: url,
    setFaults: async (rules: FaultRule[]) => void (await control("POST", "/_faults", rules)),
    stats: async () => (await control("GET", "/_stats")) as DemoStats,
    resetStats: async () => void (await control("DELETE", "/_stats")),
    close: async () => {
      child.kill();
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

if (require.main === module) {
  startDemoApi({ port: 0, seed: 1, sizes: JSON.parse(process.argv[2] ?? "{}") }).then((api) => {
    if (process.send) process.send(api.url);
  });
  // Ends with the bench, even when the bench fails.
  process.on("disconnect", () => process.exit(0));
}

/**
 * A source with one single-page request per demo station (`/v3/getStationHourlyAvg/<id>`), the
 * shape both REST benches need: `stations` requests, each answered after the injected latency.
 */
export async function stationRequestsSource(api: RemoteDemoApi, options: { name: string; latencyMs: number; rateLimit?: number }): Promise<SourceConfig> {
  const stations = (await (await fetch(`${api.url}/v3/stations`, { headers: { "X-API-Key": "demo-key" } })).json()) as { data: { station_id: string }[] };
  const source = validateSourceConfig({
    name: options.name,
    baseUrl: api.url,
    auth: { type: "api_key", name: "X-API-Key", value: "demo-key" },
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    entities: {
      readings: { path: "/v3/getStationHourlyAvg/{station_id}", primaryKey: ["timestamp"], pathParams: { station_id: stations.data.map((s) => s.station_id) }, attach: { station_id: "header.station_id" } },
    },
  }, "bench", { env: {} });
  await api.setFaults([{ path: "/v3/getStationHourlyAvg", kind: "latency", ms: options.latencyMs }]);
  return source;
}
