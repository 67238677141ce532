import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openDuckDbWarehouse } from "../../sinks/warehouse-duckdb";
import { recomputeCases } from "./recompute-cases";

recomputeCases("duckdb", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-recompute-"));
  const warehouse = await openDuckDbWarehouse(path.join(dir, "warehouse.duckdb"));
  return { warehouse: warehouse, table: (schema: string, name: string) => `${schema}.${name}`, close: () => warehouse.close() };
}, true);
