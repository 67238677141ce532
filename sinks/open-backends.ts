import * as path from "path";
import type { Lake, ServingStore, SinkTarget, Warehouse } from "../model/backends";
import { LocalLake } from "./lake-local";

/**
 * Opens the backend a `SinkTarget` names: the embedded engines for `local`, Google Cloud for
 * `gcp`. Call these on the worker (inside a DoFn or at the driver), never capture the result.
 * Every opened backend must be closed (`Warehouse.close`, `ServingStore.close`) by its opener.
 * A backend's module (and its engine or client: DuckDB, LevelDB, @google-cloud/*) is required on the
 * first open, so a `local` run never loads a Google Cloud client and `--version` loads no engine.
 *
 * @example
 * const lake = await openLake({ kind: "local", out: "./out" });       // ./out/lake
 * const wh = await openWarehouse({ kind: "local", out: "./out" });    // ./out/warehouse.duckdb
 * const store = await openServingStore({ kind: "local", out: "./out" }); // ./out/serving/<table>
 */

// The backend modules, required on first open (see above); Node caches them after that.
const duckDbModule = () => require("./warehouse-duckdb") as typeof import("./warehouse-duckdb");
const embeddedModule = () => require("./serving-embedded") as typeof import("./serving-embedded");
const gcsModule = () => require("./lake-gcs") as typeof import("./lake-gcs");
const bigQueryModule = () => require("./warehouse-bigquery") as typeof import("./warehouse-bigquery");
const bigtableModule = () => require("./serving-bigtable") as typeof import("./serving-bigtable");

/** Where each local backend lives under `out`. */
export function localPaths(out: string): { lake: string; warehouse: string; serving: string } {
  const root = path.resolve(out);
  return { lake: path.join(root, "lake"), warehouse: path.join(root, "warehouse.duckdb"), serving: path.join(root, "serving") };
}

export async function openLake(target: SinkTarget): Promise<Lake> {
  switch (target.kind) {
    case "local":
      return new LocalLake(target.out);
    case "gcp":
      return new (gcsModule().GcsLake)({ bucket: target.bucket, projectId: target.project });
    default:
      throw unknownTarget(target);
  }
}

export async function openWarehouse(target: SinkTarget): Promise<Warehouse> {
  switch (target.kind) {
    case "local":
      return duckDbModule().openDuckDbWarehouse(localPaths(target.out).warehouse);
    case "gcp":
      return new (bigQueryModule().BigQueryWarehouse)({ projectId: target.project, datasetPrefix: target.datasetPrefix, location: target.location, timeoutMs: target.timeoutMs });
    default:
      throw unknownTarget(target);
  }
}

export async function openServingStore(target: SinkTarget): Promise<ServingStore> {
  switch (target.kind) {
    case "local":
      return new (embeddedModule().EmbeddedServingStore)(target.out);
    case "gcp":
      return new (bigtableModule().BigtableServingStore)({ projectId: target.project, instanceId: target.bigtableInstance, timeoutMs: target.timeoutMs });
    default:
      throw unknownTarget(target);
  }
}

function unknownTarget(target: never): Error {
  return new Error(`unknown sink target kind: ${JSON.stringify((target as { kind?: unknown }).kind)}`);
}
