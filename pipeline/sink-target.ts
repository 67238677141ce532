import * as path from "path";
import type { SinkTarget } from "../model/backends";
import { conditionalProblems, withDefaults, type ParsedOptions } from "./options";
import { UsageError } from "./usage-error";

// Its own module so that commands which only read a sink (query, tables, serve, schema, report)
// do not load the run's graph and Beam through pipeline/run.ts.

/**
 * Where a run lands, from the sink options (defaults and the `--sink gcp` requirements come
 * from the declarations in pipeline/options.ts).
 * @throws UsageError naming the missing options of `--sink gcp`
 */
export function sinkTarget(given: ParsedOptions): SinkTarget {
  const options = withDefaults("run", given);
  const missing = conditionalProblems(options);
  if (missing.length) throw new UsageError(missing.join("; "));
  if (options.sink === "gcp") {
    return { kind: "gcp", project: options.project!, bucket: options.bucket!, datasetPrefix: options.datasetPrefix, bigtableInstance: options.bigtableInstance, location: options.location, timeoutMs: options.gcpTimeoutMs };
  }
  return { kind: "local", out: path.resolve(options.out) };
}
