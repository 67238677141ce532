import * as path from "path";
import type { Lake, ServingStore, SinkTarget, Warehouse } from "../model/backends";
import { LocalLake } from "./lake-local";
import { openDuckDbWarehouse } from "./warehouse-duckdb";
import { EmbeddedServingStore } from "./serving-embedded";
import { GcsLake } from "./lake-gcs";
import { BigQueryWarehouse } from "./warehouse-bigquery";
import { BigtableServingStore } from "./serving-bigtable";

/**
 * Opens the backend a `SinkTarget` names: the embedded engines for `local`, Google Cloud for
 * `gcp`. Call these on the worker (inside a DoFn or at the driver), never capture the result.
 * Every opened backend must be closed (`Warehouse.close`, `ServingStore.close`) by its opener.
 *
 * @example
 * const lake = await openLake({ kind: "local", out: "./out" });       // ./out/lake
 * const wh = await openWarehouse({ kind: "local", out: "./out" });    // ./out/warehouse.duckdb
 * const store = await openServingStore({ kind: "local", out: "./out" }); // ./out/serving/<table>
 */

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
      return new GcsLake({ bucket: target.bucket, projectId: target.project });
    default:
      throw unknownTarget(target);
  }
}

export async function openWarehouse(target: SinkTarget): Promise<Warehouse> {
  switch (target.kind) {
    case "local":
      return openDuckDbWarehouse(localPaths(target.out).warehouse);
    case "gcp":
      return new BigQueryWarehouse({ projectId: target.project, datasetPrefix: target.datasetPrefix, location: target.location, timeoutMs: target.timeoutMs });
    default:
      throw unknownTarget(target);
  }
}

export async function openServingStore(target: SinkTarget): Promise<ServingStore> {
  switch (target.kind) {
    case "local":
      return new EmbeddedServingStore(target.out);
    case "gcp":
      return new BigtableServingStore({ projectId: target.project, instanceId: target.bigtableInstance, timeoutMs: target.timeoutMs });
    default:
      throw unknownTarget(target);
  }
}

function unknownTarget(target: never): Error {
  return new Error(`unknown sink target kind: ${JSON.stringify((target as { kind?: unknown }).kind)}`);
}
