import { requireForSerialization } from "apache-beam/serialization";
import * as buffer from "buffer";
import * as names from "../transforms/names";
import * as dedupe from "../transforms/dedupe";
import * as sensorAverages from "../transforms/sensor-averages";
import * as jobCounts from "../transforms/job-counts";
import * as deadLetters from "../model/dead-letter";


/**
 * Modules whose functions the graph's DoFns call. Registered by name, Beam ships a reference
 * (resolved through this package's `exports` on a worker) instead of serializing each
 * function's closure, which breaks on module-internal `exports.x` references and on classes.
 */
requireForSerialization("buffer", buffer);
requireForSerialization("api2lake/dist/transforms/names", names);
requireForSerialization("api2lake/dist/transforms/dedupe", dedupe);
requireForSerialization("api2lake/dist/transforms/sensor-averages", sensorAverages);
requireForSerialization("api2lake/dist/transforms/job-counts", jobCounts);
requireForSerialization("api2lake/dist/model/dead-letter", deadLetters);


export const WORKER_MODULES_REGISTERED = true;
