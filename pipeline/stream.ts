import type { Root } from "apache-beam";
import type { SinkTarget } from "../model/backends";
import type { SourceConfig } from "../model/source-config";
import type { MessageSubscription } from "../sources/messages";

export type { MessageSubscription };
import type { ParsedOptions } from "./options";
import { buildMessageGraph } from "./graph";
import { newRunId, runAndRecord } from "./run";
import type { RunManifest } from "./manifest";
import { openLake } from "../sinks/open-backends";
import { readSchema } from "./schema-state";
import { sealForWorkers } from "../sources/rest/secrets";

export interface StreamOptions {
  source: SourceConfig;
  entity: string;
  target: SinkTarget;
  options: ParsedOptions;
  batchSize: number;
  /** Stop after this many pulls (0: until stop() or a signal). */
  maxBatches: number;
  /** Called once per landed batch. */
  onBatch?: (manifest: RunManifest) => void;
}

/**
 * Consumes a subscription through the same entity branch as batch runs, in bounded micro-batches
 * on the direct runner. Each batch's graph ends in the commit stage (pipeline/commit-stage.ts), which
 * makes its lake files visible and persists its schema. A batch is acked only after it committed; a batch that failed is
 * nacked for redelivery. Redelivery leaves the hub, the dataproducts and the serving store as one
 * delivery does (they merge or replace on keys, versions only move forward); `lake.<entity>` and
 * the error records skip what they already hold (payload hash); the lake files are one set per
 * batch and keep a second copy, marked by its own `_run_id`.
 * `stop()` (SIGINT/SIGTERM in the CLI) lets the batch in hand finish.
 */
export function startStream(subscription: MessageSubscription, opts: StreamOptions): { done: Promise<{ batches: number; messages: number; failedBatches: number }>; stop: () => void } {
  if (!opts.source.entities[opts.entity]) {
    throw new Error(`--entity "${opts.entity}" is not in ${opts.source.name} (entities: ${Object.keys(opts.source.entities).join(", ")})`);
  }
  let stopping = false;
  const done = (async () => {
    let batches = 0;
    let messages = 0;
    let failedBatches = 0;
    while (!stopping && (opts.maxBatches === 0 || batches < opts.maxBatches)) {
      batches++;
      const pulled = await subscription.pull(opts.batchSize);
      if (pulled.messages.length === 0) continue;
      const runId = newRunId();
      // Each micro-batch extends the entity's persisted schema, like a batch run.
      const schema = await readSchema(await openLake(opts.target), opts.source.name, opts.entity);
      const manifest = await runAndRecord({
        runId: runId,
        startedAt: new Date(),
        target: opts.target,
        options: opts.options,
        sources: [opts.source.name],
        entities: [opts.entity],
        sealedSources: [sealForWorkers(opts.source)],
        build: (root: Root) => buildMessageGraph(root, { runId: runId, target: opts.target, source: opts.source, entity: opts.entity, messages: pulled.messages, schema: schema }),
        promotions: [{ kind: "schemas", entities: [opts.entity] }],
      });
      if (manifest.status === "succeeded") {
        await subscription.ack(pulled.ackIds);
        messages += pulled.messages.length;
      } else {
        failedBatches++;
        await subscription.nack(pulled.ackIds);
      }
      if (opts.onBatch) opts.onBatch(manifest);
    }
    return { batches: batches, messages: messages, failedBatches: failedBatches };
  })();
  return { done: done, stop: () => void (stopping = true) };
}
