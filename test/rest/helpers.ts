import * as fs from "fs";
import * as http from "http";
import { withName, type PCollection } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import type { AddressInfo } from "net";

/** A tiny local HTTP server for tests: the handler sees every request; `requests` records them. */
export interface LocalServer {
  url: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; at: number }[];
  close(): Promise<void>;
}

export async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<LocalServer> {
  const requests: LocalServer["requests"] = [];
  const sockets = new Set<import("net").Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, at: Date.now() });
    handler(req, res, requests.length);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function json(res: http.ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function query(req: http.IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://x").searchParams;
}

/** A retry policy fast enough for tests. */
export const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 3000, timeoutMs: 1000 };

// `collect` runs inside a DoFn: the closure serializer must find `fs` by module name.
requireForSerialization("fs", fs);

/** Appends each element of a collection as a JSON line to `file` (a side effect the test reads back). */
export function collect<T>(pcoll: PCollection<T>, file: string, label: string): void {
  pcoll.map(withName(label, function writeLine(x: T) {
    fs.appendFileSync(file, JSON.stringify(x) + "\n");
    return x;
  }));
}

/** The JSON lines `collect` wrote (none when the file is absent). */
export function readLines(file: string): any[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}
