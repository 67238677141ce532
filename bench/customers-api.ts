/**
 * A paged customers API for the end-to-end bench, on 127.0.0.1 in a child process (so serving
 * costs no CPU in the process being measured): `GET /customers?page=P&per_page=S` answers
 * `{ data: [records (P-1)*S .. P*S-1 of bench/customer-records.ts], has_more }` over `total`
 * records; pages are 1-based, `per_page` at most 10,000. Generated per request: nothing is held.
 */
import * as child_process from "child_process";
import * as http from "http";
import * as path from "path";
import { customerRecord } from "./customer-records";

/** The page body for `page` (1-based) of `size` records out of `total`, as JSON text. */
export function customersPage(page: number, size: number, total: number): string {
  const start = (page - 1) * size;
  const end = Math.min(total, start + size);
  const data = [];
  for (let i = start; i < end; i++) data.push(customerRecord(i));
  return JSON.stringify({ data: data, has_more: end < total });
}

function serve(total: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const page = Number(url.searchParams.get("page") ?? "1");
    const size = Number(url.searchParams.get("per_page") ?? "1000");
    if (url.pathname !== "/customers" || !Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 10_000) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "GET /customers?page=<1..>&per_page=<1..10000>" }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(customersPage(page, size, total));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Starts the API over `total` records in a child process; `close` stops it. */
export async function startCustomersApi(total: number): Promise<{ url: string; close: () => Promise<void> }> {
  const child = child_process.fork(path.join(__dirname, "customers-api.js"), [String(total)], { stdio: "inherit" });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m) => resolve(String(m)));
    child.once("exit", (code) => reject(new Error(`customers API child exited with ${code}`)));
  });
  return {
    url: url,
    close: async () => {
      child.kill();
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

if (require.main === module) {
  serve(Number(process.argv[2])).then((server) => {
    const address = server.address() as { port: number };
    if (process.send) process.send(`http://127.0.0.1:${address.port}`);
  });
  // Ends with the bench, even when the bench fails.
  process.on("disconnect", () => process.exit(0));
}
