import { after, before } from "node:test";
import { startEmulators, type Emulators } from "../emulators/emulators";
import { BigQueryWarehouse } from "../../sinks/warehouse-bigquery";
import { recomputeCases } from "../pipeline/recompute-cases";

// The recompute SQL on the BigQuery emulator against the same pure functions as on DuckDB.
let emu: Emulators;
before(async () => { emu = await startEmulators(["bigquery"]); });
after(async () => { await emu?.stop(); });

const PREFIX = "rc_";
recomputeCases("bigquery (emulator)", async () => {
  const warehouse = new BigQueryWarehouse({ projectId: emu.project, datasetPrefix: PREFIX });
  return { warehouse: warehouse, table: (schema: string, name: string) => `${PREFIX}${schema}.${name}`, close: () => warehouse.close() };
}, false);
