import { requireForSerialization } from "apache-beam/serialization";
import * as buffer from "buffer";
import * as deadLetters from "../model/dead-letter";
import * as entitySchema from "../model/entity-schema";
import * as progressEvents from "../model/progress-events";

/**
 * Modules the graph's DoFns reach that do not register themselves: a Node global the serializer
 * does not know (`Buffer`), and the shared model (which stays free of Beam). Registered by name,
 * Beam ships a reference (resolved through this package's `exports` on a worker) instead of
 * serializing closures, which breaks on module-internal `exports.x` references and on classes.
 * The project's own transforms, sources and sinks register themselves where they are defined.
 */
requireForSerialization("buffer", buffer);
requireForSerialization("api2lake/dist/model/dead-letter", deadLetters);
requireForSerialization("api2lake/dist/model/entity-schema", entitySchema);
requireForSerialization("api2lake/dist/model/progress-events", progressEvents);
