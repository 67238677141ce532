import type { CommandOptions } from "./options";
import { openServingStore } from "../sinks/open-backends";
import { sinkTarget } from "./sink-target";
import { UsageError } from "./usage-error";

/** Rows `serve read` prints without `--limit` (the option also caps `run`, where absent means no cap). */
const SERVE_ROWS = 20;

/** `api2lake serve read <table> [--prefix P] [--limit N]`: rows in key order, typed cells decoded. */
export async function serveCommand(options: CommandOptions<"serve">, positional: string[]): Promise<number> {
  if (positional[0] !== "read" || !positional[1]) {
    console.error("usage: api2lake serve read <table> [--prefix P] [--limit N] [--sink local|gcp]");
    return 2;
  }
  const store = await openServingStore(sinkTarget(options));
  try {
    const rows = await store.read(positional[1], { prefix: options.prefix, limit: options.limit ?? SERVE_ROWS }).catch((error: Error & { code?: unknown }) => {
      // A missing table is the user's input, not a failure: gRPC NOT_FOUND (5) from Bigtable, our own code locally.
      if (error.code === "NO_SUCH_TABLE") throw new UsageError(error.message);
      if (error.code === 5) throw new UsageError(`serving table "${positional[1]}" does not exist in the Bigtable instance (${error.message.split("\n")[0]})`);
      throw error;
    });
    for (const row of rows) {
      const cells: Record<string, unknown> = {};
      for (const family of Object.keys(row.cells)) {
        for (const qualifier of Object.keys(row.cells[family])) cells[`${family}:${qualifier}`] = row.cells[family][qualifier].value;
      }
      console.log(JSON.stringify({ key: row.key, cells: cells }));
    }
    if (rows.length === 0) console.error(`no rows in ${positional[1]}${options.prefix ? ` with prefix ${options.prefix}` : ""}`);
    return 0;
  } finally {
    await store.close();
  }
}
