// A worker thread of the cleaning step's pool (pipeline/clean-step.ts, piscina): compiles the
// entity's cleaner once from `workerData` and cleans the batches it is given.
import { workerData } from "worker_threads";
import { compileEntityCleaner, type CleanBatch, type Cleaned, type CleanerSettings } from "./entity-cleaner";

const settings = workerData as CleanerSettings;
const cleaner = compileEntityCleaner(settings.entity, settings.options);

/** Each record's result, in order (the cleaner never throws: failures are results). */
export function cleanBatch(batch: CleanBatch): Cleaned[] {
  const out: Cleaned[] = new Array(batch.records.length);
  for (let i = 0; i < batch.records.length; i++) out[i] = cleaner.clean(batch.records[i], batch.origins[i]);
  return out;
}
