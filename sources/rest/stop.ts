/**
 * The process-level stop flag: set by the CLI on the first SIGINT/SIGTERM, read by the REST read
 * before each new page, so an interrupted run stops fetching and its sinks finish the pages in
 * hand. Kept on `globalThis` so every copy of this module in the process (the DoFn's registered
 * module and the CLI's) sees one flag.
 */
const KEY = "__api2lakeStopRequested";

export function requestStop(): void {
  (globalThis as Record<string, unknown>)[KEY] = true;
}

export function stopRequested(): boolean {
  return (globalThis as Record<string, unknown>)[KEY] === true;
}

/** For tests in one process: clears the flag. */
export function resetStop(): void {
  delete (globalThis as Record<string, unknown>)[KEY];
}
