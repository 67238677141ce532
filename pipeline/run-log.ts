import pino from "pino";
import { onProgress, type ProgressEvent } from "../model/progress-events";
import { redact, type Secrets } from "../sources/rest/auth/redact";
import type { RunManifest } from "./manifest";

/**
 * The run's structured log, through pino: one JSON object per line, `severity` in Cloud Logging's
 * format (DEBUG, INFO, WARNING, ERROR, CRITICAL; https://cloud.google.com/logging/docs/structured-logging),
 * `message`, `time` (ISO 8601 UTC). Lines are kept in memory and become `runs/<run_id>.log` beside
 * the manifest (the lake's writeText, so on GCS too), each stamped with `run_id`; `--json-logs`
 * also writes them to stdout as they happen. Request-level events (each request, each page) are
 * `debug`; planning, retry waits and the run's end are `info`; a series that stopped and dead
 * letters are `warning`; run errors are `error`. Every line passes through `redact` with the run's
 * secrets (sources/rest/auth/redact.ts) before it is kept or written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** pino level label -> Cloud Logging severity. */
const SEVERITY: Record<string, string> = { trace: "DEBUG", debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR", fatal: "CRITICAL" };

export interface RunLogOptions {
  /** Lowest level kept (default info). */
  level?: LogLevel;
  /** Also write each line to this stream (`--json-logs`: process.stdout). */
  echo?: NodeJS.WritableStream;
  /** Values masked in every line (the run's `${VAR}` values). */
  secrets?: Secrets;
  /** `time` of each line (tests inject a clock); default now. */
  now?: () => Date;
}

export interface RunLog {
  logger: pino.Logger;
  /** The lines so far (each ends with a newline), stamped with `runId`. */
  text(runId: string): string;
  /** Stops listening to progress events. */
  close(): void;
}

/** Starts a run log that also turns this process's progress events into log lines. */
export function startRunLog(options: RunLogOptions = {}): RunLog {
  const lines: string[] = [];
  const secrets = options.secrets ?? { values: [], queryParams: [] };
  const echo = options.echo;
  const now = options.now ?? (() => new Date());
  const destination = {
    write: (line: string) => {
      lines.push(line);
      if (echo) echo.write(line);
    },
  };
  const logger = pino({
    level: options.level ?? "info",
    base: undefined,
    messageKey: "message",
    timestamp: () => `,"time":"${now().toISOString()}"`,
    formatters: { level: (label: string) => ({ severity: SEVERITY[label] ?? "DEFAULT" }) },
    hooks: { streamWrite: (text: string) => redact(text, secrets) },
  }, destination);
  const unsubscribe = onProgress((event) => logProgress(logger, event));
  return {
    logger: logger,
    text: (runId: string) => lines.map((line) => stampRunId(line, runId)).join(""),
    close: unsubscribe,
  };
}

/** `{"severity":...}` -> `{"run_id":"<id>","severity":...}`: lines are logged before the run id exists. */
function stampRunId(line: string, runId: string): string {
  return line.startsWith("{") && !line.startsWith('{"run_id"') ? `{"run_id":${JSON.stringify(runId)},${line.slice(1)}` : line;
}

/** One progress event as a log line (stage counts are not logged: the summary has them). */
export function logProgress(logger: pino.Logger, event: ProgressEvent): void {
  if (event.kind === "planned") logger.info({ source: event.source, entity: event.entity, series: event.series }, "request series planned");
  else if (event.kind === "request") logger.debug({ source: event.source, entity: event.entity, url: event.url }, "request");
  else if (event.kind === "page") {
    const fields = { page: event.page, records: event.records, status: event.status, attempts: event.attempts, url: event.url };
    logger.debug({ source: event.source, entity: event.entity, ...fields }, "page fetched");
  } else if (event.kind === "retry_wait") {
    const fields = { wait_ms: event.ms, rate_limited: event.rateLimited, reason: event.reason };
    logger.info({ source: event.source, entity: event.entity, ...fields }, "retry waiting");
  } else if (event.kind === "series_done" && event.failure) {
    logger.warn({ source: event.source, entity: event.entity, reason: event.failure }, "request series stopped early");
  }
}

/** The run's end: its status, counts per entity, dead-letter samples (warning) and errors (error). */
export function logRunEnd(logger: pino.Logger, manifest: RunManifest): void {
  for (const entry of Object.entries(manifest.entities)) logger.info({ entity: entry[0], counts: entry[1] }, "entity counts");
  for (const entry of Object.entries(manifest.dead_letter_samples ?? {})) {
    for (const reason of entry[1]) logger.warn({ entity: entry[0], reason: reason }, "dead letter");
  }
  for (const error of manifest.errors) logger.error({ error: error }, "run error");
  const fields = { status: manifest.status, started_at: manifest.started_at, finished_at: manifest.finished_at, lake_files: manifest.lake_files };
  if (manifest.status === "failed") logger.error(fields, `run ${manifest.status}`);
  else logger.info(fields, `run ${manifest.status}`);
}

let current: RunLog | undefined;

/**
 * The process's run log: the one `useRunLog` set (the CLI, with `--logLevel`/`--json-logs`), else a
 * quiet default at info that only collects (a run started from code or a test still gets its log file).
 */
export function currentRunLog(): RunLog {
  if (!current) current = startConfiguredRunLog({});
  return current;
}

/** Makes `log` the process's run log (closing the previous one). */
export function useRunLog(log: RunLog): void {
  if (current && current !== log) current.close();
  current = log;
}

/**
 * The text of `runs/<run_id>.log`: the run's end logged, then every line so far, stamped with the
 * run id; the buffer then starts afresh for the next run of this process (demo runs several).
 */
export function finishRunLog(manifest: RunManifest): string {
  const log = currentRunLog();
  logRunEnd(log.logger, manifest);
  const text = log.text(manifest.run_id);
  const fresh = startRunLogLike(log);
  useRunLog(fresh);
  return text;
}

const settings = new WeakMap<RunLog, RunLogOptions>();

/** Starts a run log with the options `log` was started with (see `startConfiguredRunLog`). */
function startRunLogLike(log: RunLog): RunLog {
  const options = settings.get(log) ?? {};
  return startConfiguredRunLog(options);
}

/** `startRunLog`, remembering the options so the next run of the process logs the same way. */
export function startConfiguredRunLog(options: RunLogOptions): RunLog {
  const log = startRunLog(options);
  settings.set(log, options);
  return log;
}
