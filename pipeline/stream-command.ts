import * as path from "path";
import { withDefaults, type CommandOptions, type ParsedOptions } from "./options";
import type { SourceConfig } from "../model/source-config";
import { selectEntities } from "../sources/rest/entity-selection";
import { parseRangeArgs } from "../sources/rest/slices";
import { planWorkItems, fetchWorkItem } from "../sources/rest/work-item";
import { publishRecords, closePubSub, PubSubMessageSubscription } from "../sources/pubsub";
import type { Row } from "../model/row";
import { loadConfig } from "./run-command";
import { UsageError } from "./usage-error";
import { newRunId, publicOptions, runnerOptions, sinkTarget } from "./run";
import type { CommitSpec } from "./commit-stage";
import { sealForWorkers } from "../sources/rest/secrets";
import { startStream } from "./stream";
import { createRunner } from "apache-beam";
import type { Root } from "apache-beam";
import { JobState_Enum } from "apache-beam/proto/beam_job_api";
import { PythonService } from "apache-beam/utils/service";
import { openLake } from "../sinks/open-backends";
import { readSchema } from "./schema-state";
import { templateWritten } from "./dataflow-template";
import { buildStreamingGraph, DEFAULT_WINDOWING, type StreamWindowing } from "./stream-dataflow";

export interface PublishResult {
  published: number;
  /** Pages that kept failing or records refused while reading (not published). */
  failures: number;
}

/**
 * What the scheduled function did in the invoice system: fetch an entity from its REST source
 * and publish each record to Pub/Sub, with attributes `id` (the primary key) and `event_time`.
 */
export async function publishEntity(source: SourceConfig, entity: string, topic: string, options: { projectId?: string; from?: string; to?: string; runId: string }): Promise<PublishResult> {
  const declared = source.entities[entity];
  const range = options.from && options.to ? parseRangeArgs(options.from, options.to) : undefined;
  let published = 0;
  let failures = 0;
  for (const item of planWorkItems(source, { entities: [entity], range: range })) {
    const records: Row[] = [];
    for (const element of await fetchWorkItem(source, item, { runId: options.runId })) {
      if ("record" in element) records.push(element.record.record);
      else if ("deadLetter" in element) {
        failures++;
        console.error(`api2lake publish: ${element.deadLetter.stage} failure: ${element.deadLetter.error}`);
      }
    }
    if (records.length) published += (await publishRecords(topic, records, { idField: declared.primaryKey[0], eventTimeField: declared.eventDate, projectId: options.projectId })).length;
  }
  return { published: published, failures: failures };
}

export async function publishCommand(options: CommandOptions<"publish">): Promise<number> {
  const source = loadConfig(options.config);
  const entities = await selectEntities(Object.keys(source.entities), options.entities).catch((e: Error) => {
    throw new UsageError(e.message);
  });
  // Check every entity before publishing anything, so a bad one does not stop a half-done publish.
  for (const entity of entities) {
    const declared = source.entities[entity];
    if (declared.primaryKey.length !== 1) throw new UsageError(`publish needs a single-field primary key (the id attribute); ${entity} has (${declared.primaryKey.join(", ")})`);
    if (declared.slices && !(options.from && options.to)) throw new UsageError(`${entity} is read in date slices: give --from and --to`);
  }
  try {
    let failures = 0;
    for (const entity of entities) {
      const result = await publishEntity(source, entity, options.topic, { projectId: options.project, from: options.from, to: options.to, runId: `publish-${Date.now()}` });
      failures += result.failures;
      console.log(`${entity}: published ${result.published} records to ${options.topic}${result.failures ? ` (${result.failures} failures)` : ""}`);
    }
    return failures ? 1 : 0;
  } finally {
    await closePubSub();
  }
}

export async function streamCommand(options: CommandOptions<"stream">): Promise<number> {
  const source = loadConfig(options.config);
  if (options.runner === "dataflow") return streamOnDataflow(options);
  const stream = startStream(new PubSubMessageSubscription(options.subscription, { projectId: options.project }), {
    source: source,
    entity: options.entity,
    target: sinkTarget(options),
    options: options,
    batchSize: options.batchSize,
    maxBatches: options.maxBatches,
    onBatch: (m) => console.log(`batch ${m.run_id}: ${m.status}, ${m.entities[options.entity]?.fetched ?? 0} messages, ${m.entities[options.entity]?.kept ?? 0} kept${m.errors.length ? `: ${m.errors.join("; ")}` : ""}`),
  });
  // The batch in hand finishes (sinks commit, then ack); then the loop ends.
  const stop = () => stream.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const done = await stream.done;
    console.log(`stream stopped after ${done.batches} pulls: ${done.messages} messages landed, ${done.failedBatches} batches failed (nacked for redelivery); out ${path.resolve(options.out)}`);
    return done.failedBatches ? 1 : 0;
  } finally {
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
    await closePubSub();
  }
}

/** `projects/<p>/subscriptions/<s>` from a full path or a bare name and `--project`. */
export function subscriptionPath(subscription: string, project: string | undefined): string {
  if (subscription.startsWith("projects/")) return subscription;
  if (!project) throw new UsageError(`--subscription "${subscription}" needs --project (or a full projects/<p>/subscriptions/<s>)`);
  return `projects/${project}/subscriptions/${subscription}`;
}

/** `--paneMinutes` and `--allowedLatenessHours` in ms (declared defaults in pipeline/options.ts). */
export function streamWindowing(options: ParsedOptions): StreamWindowing {
  const given = withDefaults("stream", options);
  return { firingDelayMs: given.paneMinutes * 60_000, allowedLatenessMs: given.allowedLatenessHours * 3_600_000 };
}

/**
 * The Dataflow options of a streaming job: those of a batch run (project, region, staging, the
 * launcher's JSON last) plus `streaming` and Streaming Engine, which Dataflow's Runner v2 needs
 * for streaming (Beam's Python SDK adds the same two experiments to its own streaming jobs,
 * `_check_and_add_missing_options` in apache_beam/runners/dataflow/dataflow_runner.py). The
 * job name is stable per entity: Dataflow refuses a second running job of the same name, so
 * one subscription is not consumed twice by accident.
 */
const STREAMING_EXPERIMENTS = ["enable_streaming_engine", "enable_windmill_service"];

export function streamingRunnerOptions(options: ParsedOptions, entity: string): Record<string, unknown> {
  const base = runnerOptions(withDefaults("run", options), sinkTarget(options));
  const experiments = Array.isArray(base.experiments) ? (base.experiments as string[]) : [];
  return {
    jobName: `api2lake-stream-${entity.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`,
    ...base,
    streaming: true,
    enableStreamingEngine: true,
    experiments: [...experiments.filter((e) => !STREAMING_EXPERIMENTS.includes(e)), ...STREAMING_EXPERIMENTS],
  };
}

/**
 * `api2lake stream --runner dataflow --sink gcp`: submits the unbounded graph
 * (pipeline/stream-dataflow.ts) and returns once Dataflow runs it (or, with `templateLocation`
 * in API2LAKE_DATAFLOW_OPTIONS, once the template is written). The job then runs until drained
 * or cancelled in Dataflow; messages are acked by Dataflow's checkpoints, never here.
 */
export async function streamOnDataflow(options: ParsedOptions): Promise<number> {
  if (options.sink !== "gcp") throw new UsageError("--runner dataflow needs --sink gcp (workers cannot write to your laptop)");
  const source = loadConfig(options.config!);
  const entity = options.entity!;
  if (!source.entities[entity]) throw new UsageError(`--entity "${entity}" is not in ${source.name} (entities: ${Object.keys(source.entities).join(", ")})`);
  const target = { ...sinkTarget(options), perWindow: true } as const;
  const subscription = subscriptionPath(options.subscription!, options.project);
  const runner = streamingRunnerOptions(options, entity);
  const template = typeof runner.templateLocation === "string" ? runner.templateLocation : undefined;
  const schema = await readSchema(await openLake(target), source.name, entity);
  const runId = newRunId();
  const commit: CommitSpec = {
    runId: runId, startedAt: new Date().toISOString(), target: target, runner: "dataflow", options: publicOptions(options),
    sources: [source.name], entities: [entity], sealedSources: [sealForWorkers(source)], maxDeadShare: {}, rolledBack: [], promotions: [],
  };
  const plan = {
    runId: runId, target: target, source: source, entity: entity, subscription: subscription, schema: schema,
    windowing: streamWindowing(options), commit: commit,
  };
  let failure: string | undefined;
  try {
    const state = await withOwnJobService(async () =>
      untilRunningOrDone(await createRunner(runner).runAsync((root: Root) => buildStreamingGraph(root, plan))));
    if (!template && state !== JobState_Enum.RUNNING) failure = `the Dataflow job ended in state ${JobState_Enum[state]}`;
  } catch (error) {
    failure = (error as Error).message;
  }
  if (template) {
    // Beam 2.49's job service reports FAILED after writing a template (see pipeline/dataflow-template.ts).
    if (await templateWritten(template).catch(() => false)) {
      console.log(`stream ${runId}: Dataflow streaming template written to ${template}`);
      return 0;
    }
    console.error(`stream ${runId}: no template written to ${template}${failure ? `: ${failure}` : ""}`);
    return 1;
  }
  if (failure) {
    console.error(`stream ${runId}: ${failure}`);
    return 1;
  }
  console.log(`stream ${runId}: Dataflow job ${String(runner.jobName)} is running (${subscription} -> ${entity}); `
    + "stop it by draining it in Dataflow");
  return 0;
}

const SETTLED = [JobState_Enum.RUNNING, JobState_Enum.DONE, JobState_Enum.FAILED, JobState_Enum.CANCELLED, JobState_Enum.UPDATED, JobState_Enum.DRAINED];

/** Polls the job until it runs or reaches a terminal state (a streaming job never finishes by itself). */
async function untilRunningOrDone(result: { waitUntilFinish(durationMs?: number): Promise<JobState_Enum> }): Promise<JobState_Enum> {
  for (;;) {
    const state = await result.waitUntilFinish(5_000);
    if (SETTLED.includes(state)) return state;
  }
}

const JOB_SERVICE_MODULE = "apache_beam.runners.dataflow.dataflow_job_service";

/**
 * Runs `work` against a Dataflow job service that this process starts and stops. The SDK stops
 * the service it starts only when the job reaches a terminal state, which a streaming job does
 * not: it would outlive api2lake, polling the job. A service given in BEAM_SERVICE_OVERRIDES
 * (`"python:apache_beam.runners.dataflow.dataflow_job_service": "host:port"`) is used as it is.
 */
async function withOwnJobService<T>(work: () => Promise<T>): Promise<T> {
  const key = "python:" + JOB_SERVICE_MODULE;
  const saved = process.env.BEAM_SERVICE_OVERRIDES;
  const overrides = saved ? (JSON.parse(saved) as Record<string, string>) : {};
  if (overrides[key]) return work();
  const service = PythonService.forModule(JOB_SERVICE_MODULE, ["--port", "{{PORT}}"]);
  const address = await service.start();
  process.env.BEAM_SERVICE_OVERRIDES = JSON.stringify({ ...overrides, [key]: address });
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.BEAM_SERVICE_OVERRIDES;
    else process.env.BEAM_SERVICE_OVERRIDES = saved;
    await service.stop();
  }
}
