import { REQUEST_REFERENCE } from "../../model/source-config";
import type { Slice } from "./slices";

/**
 * Values a record takes from the request that fetched it, named in an entity's `attach` as
 * `{path.<name>}` (the path parameter's value) or `{slice.start}` / `{slice.end}` (the slice's
 * bounds, UTC ISO-8601 with milliseconds). APIs such as AirQino's send a station's readings
 * without the station id: it is only in the request path.
 */

/** What a request knows about itself. */
export interface RequestValues {
  pathParams: Readonly<Record<string, string>>;
  slice?: Slice;
}

/** True when an `attach` value names a request value rather than a body path. */
export function isRequestReference(ref: string): boolean {
  return REQUEST_REFERENCE.test(ref);
}

/**
 * The request value a reference names, or null when the request has none (a sliced entity run
 * without slices). The config schema refuses references to undeclared path parameters.
 */
export function requestValue(ref: string, request: RequestValues): string | null {
  const m = REQUEST_REFERENCE.exec(ref);
  if (!m) throw new Error(`not a request reference: ${JSON.stringify(ref)}`);
  if (m[1] === "path") return Object.prototype.hasOwnProperty.call(request.pathParams, m[2]) ? request.pathParams[m[2]] : null;
  if (!request.slice) return null;
  return m[2] === "start" ? request.slice.start : m[2] === "end" ? request.slice.end : null;
}
