import { requestStop } from "../sources/rest/stop";

/** Exit code of a run stopped by a signal (128 + SIGINT), partial or aborted. */
export const INTERRUPTED_EXIT_CODE = 130;

/** The process exit code of a finished run: 0 succeeded, 130 partial (interrupted), 1 failed. */
export function exitCodeOf(status: "succeeded" | "partial" | "failed"): number {
  return status === "succeeded" ? 0 : status === "partial" ? INTERRUPTED_EXIT_CODE : 1;
}

/**
 * Ctrl-C semantics of `api2lake run`: the first SIGINT/SIGTERM sets the stop flag (no new page is
 * requested; the sinks finish the pages in hand; the run commits them as `partial` and exits 130);
 * a second one exits 130 at once, committing nothing - the next run into the same `--out` rolls
 * the aborted run back (pipeline/orphaned-runs.ts). Returns a function removing the handlers.
 */
export function handleInterrupts(log: (line: string) => void = (line) => console.error(line)): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      requestStop();
      log(`api2lake: ${signal}: stopping - no new pages are requested; the pages in hand are written and committed as a partial run (${signal} again aborts)`);
      return;
    }
    log(`api2lake: ${signal} again: aborted, nothing of this run was committed (the next run into this --out rolls it back)`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
