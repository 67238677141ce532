import type { Secrets } from "../sources/rest/auth/redact";
import type { ParsedOptions } from "./options";
import { startProgress } from "./progress";
import { startConfiguredRunLog, useRunLog, type LogLevel } from "./run-log";

/**
 * What a run command (`run`, `demo`) shows while it runs: the progress display on stderr (unless
 * `--quiet`, or `--runner dataflow`: the events happen on the job's workers) and the run log at
 * `--logLevel`, echoed to stdout with `--json-logs` (the summary then goes to stderr, so stdout stays
 * JSON lines). `secrets` are masked in every log line.
 */
export function startRunConsole(
  options: ParsedOptions, secrets: Secrets,
): { summaryStream?: NodeJS.WritableStream; stop: () => void } {
  const jsonLogs = options.jsonLogs === true;
  const level = (options.logLevel ?? "info") as LogLevel;
  useRunLog(startConfiguredRunLog({ level: level, echo: jsonLogs ? process.stdout : undefined, secrets: secrets }));
  // Dataflow runs the DoFns on its workers: no event reaches this process, so no display is started.
  const dataflow = options.runner === "dataflow";
  if (dataflow && options.quiet !== true) {
    process.stderr.write("progress: the job runs on Dataflow workers, no live display here (see the job's page in the Cloud console)\n");
  }
  const progress = startProgress({ quiet: options.quiet === true || dataflow });
  return { summaryStream: jsonLogs ? process.stderr : undefined, stop: progress.stop };
}
