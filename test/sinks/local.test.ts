import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after } from "node:test";
import { LocalLake } from "../../sinks/lake-local";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { EmbeddedServingStore } from "../../sinks/serving-embedded";
import { lakeContract, servingContract, warehouseContract, warehouseVersionsContract } from "./contract";

// The shared backend contracts, on the embedded engines with real files in a temp folder.
const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-local-sinks-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));

lakeContract("local", async () => {
  const lake = new LocalLake(out);
  return {
    lake: lake,
    readObject: async (rel: string) => {
      const file = path.join(out, "lake", rel);
      return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    },
  };
});

warehouseContract("duckdb", async () => {
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  return { warehouse: warehouse, table: (schema: string, name: string) => `${schema}."${name}"`, close: () => warehouse.close() };
});

warehouseVersionsContract("duckdb", async () => {
  const warehouse = await openDuckDbWarehouse(path.join(out, "warehouse.duckdb"));
  return { warehouse: warehouse, table: (schema: string, name: string) => `${schema}."${name}"`, close: () => warehouse.close() };
});

servingContract("embedded", async () => {
  const store = new EmbeddedServingStore(out);
  return { store: store, close: () => store.close() };
});
