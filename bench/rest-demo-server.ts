/**
 * Runs the demo API in a child process for the REST benches, so the server's own CPU does not
 * share the event loop with the client being measured (as with a real remote API).
 */
import * as child_process from "child_process";
import * as path from "path";
import { startDemoApi, type DemoStats, type FaultRule } from "../sources/demo-api/server";

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
