import * as path from "path";
import type { CommandOptions } from "./options";
import type { SourceConfig } from "../model/source-config";
import { selectEntities } from "../sources/rest/entity-selection";
import { parseRangeArgs } from "../sources/rest/slices";
import { planWorkItems, fetchWorkItem } from "../sources/rest/work-item";
import { publishRecords, closePubSub, PubSubMessageSubscription } from "../sources/pubsub";
import type { Row } from "../model/row";
import { loadConfig } from "./run-command";
import { UsageError } from "./usage-error";
import { sinkTarget } from "./run";
import { startStream } from "./stream";

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
