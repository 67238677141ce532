import { after, before } from "node:test";
import { startEmulators } from "../emulators/emulators";
import type { Emulators } from "../emulators/emulators";
import { BigQueryWarehouse } from "../../sinks/warehouse-bigquery";
import { warehouseVersionsContract } from "../sinks/contract";

// Issue 8's warehouse rules on the BigQuery emulator, with an emulator of their own.
let emu: Emulators;
before(async () => { emu = await startEmulators(["bigquery"]); });
after(async () => { await emu?.stop(); });

const PREFIX = "v_";

// The emulator (v0.8.1) runs GoogleSQL in WebAssembly whose memory only grows: after a few
// hundred jobs it panics ("slice bounds out of range"). Each test gets a restarted process
// (same port, same data file).
warehouseVersionsContract("bigquery (emulator)", async () => {
  await emu.stop("bigquery");
  await emu.start("bigquery");
  const warehouse = new BigQueryWarehouse({ projectId: emu.project, datasetPrefix: PREFIX });
  return { warehouse: warehouse, table: (schema: string, name: string) => `${PREFIX}${schema}.${name}`, close: () => warehouse.close() };
});
