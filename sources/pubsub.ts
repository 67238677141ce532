import { PubSub, v1 } from "@google-cloud/pubsub";
import type { Row } from "../model/row";
import type { InboundMessage, MessageSubscription } from "./messages";
import { retrying } from "../sinks/gcp-retry";

/**
 * Pub/Sub for `api2lake publish` and `api2lake stream`: records go out as one JSON message each
 * (attributes `id` and `event_time`), and come back in bounded micro-batches whose messages are
 * acked only after the sinks committed (nacked, or left to expire, otherwise). Clients are
 * created on first use; against the emulator set `PUBSUB_EMULATOR_HOST`.
 *
 * @example
 * await publishRecords("projects/acme/topics/invoices", records, { idField: "invoice_id", eventTimeField: "issued_at" });
 * const batch = await pullBatch("projects/acme/subscriptions/invoices-stream", { maxMessages: 500, timeoutMs: 5000 });
 * // ... land batch.messages ...
 * await batch.ack();          // or batch.nack() for redelivery
 */

export interface PublishOptions {
  /** The record field whose value becomes the `id` attribute (required in every record). */
  idField: string;
  /** The record field whose value becomes the `event_time` attribute (optional per record). */
  eventTimeField?: string;
  projectId?: string;
  /** Messages per publish request (default 500; Pub/Sub allows 1000 and 10 MB). */
  batchSize?: number;
}

export interface PullOptions {
  /** Upper bound of the batch (default 500). */
  maxMessages?: number;
  /** How long to keep pulling for a fuller batch; an empty batch after this is normal (default 5 000). */
  timeoutMs?: number;
  projectId?: string;
}

/** A pulled message with its own settle handles. */
export interface PulledMessage extends InboundMessage {
  ackId: string;
  ack(): Promise<void>;
  /** Ask for redelivery now. */
  nack(): Promise<void>;
}

export interface PulledBatch {
  messages: PulledMessage[];
  ack(): Promise<void>;
  nack(): Promise<void>;
}

const clients = new Map<string, { pubsub: PubSub; subscriber?: Promise<v1.SubscriberClient> }>();

function pubsubFor(projectId?: string): { pubsub: PubSub; subscriber?: Promise<v1.SubscriberClient> } {
  const key = `${projectId ?? ""}|${process.env.PUBSUB_EMULATOR_HOST ?? ""}`;
  let c = clients.get(key);
  if (!c) {
    c = { pubsub: new PubSub({ projectId: projectId }) };
    clients.set(key, c);
  }
  return c;
}

function subscriberFor(projectId?: string): Promise<v1.SubscriberClient> {
  const c = pubsubFor(projectId);
  if (!c.subscriber) c.subscriber = c.pubsub.getClientConfig().then((config) => new v1.SubscriberClient(config as never));
  return c.subscriber;
}

/** `projects/<p>/<kind>/<name>` from a full path or a bare name. */
function fullName(kind: "topics" | "subscriptions", name: string, projectId: string | undefined): string {
  if (name.startsWith("projects/")) return name;
  const project = projectId ?? process.env.GOOGLE_CLOUD_PROJECT;
  if (!project) throw new Error(`Pub/Sub ${kind.slice(0, -1)} "${name}" needs a project: pass a full "projects/<p>/${kind}/${name}" or projectId`);
  return `projects/${project}/${kind}/${name}`;
}

/**
 * Publishes one message per record, `batchSize` at a time, and resolves with the message ids in
 * record order once Pub/Sub accepted every one. A record without its id field is refused before
 * anything is sent.
 */
export async function publishRecords(topic: string, records: readonly Row[], options: PublishOptions): Promise<string[]> {
  records.forEach((r, i) => {
    const id = r[options.idField];
    if (id === undefined || id === null || id === "") throw new Error(`record ${i} has no "${options.idField}" (the message id attribute)`);
  });
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, 1000));
  const t = pubsubFor(options.projectId).pubsub.topic(fullName("topics", topic, options.projectId), {
    batching: { maxMessages: batchSize, maxMilliseconds: 10, maxBytes: 9 * 1024 * 1024 },
  });
  const ids: string[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    const chunk = records.slice(start, start + batchSize);
    const sent = await Promise.all(
      chunk.map((r) => {
        const attributes: Record<string, string> = { id: String(r[options.idField]) };
        const eventTime = options.eventTimeField ? r[options.eventTimeField] : undefined;
        if (eventTime !== undefined && eventTime !== null) attributes.event_time = eventTime instanceof Date ? eventTime.toISOString() : String(eventTime);
        return t.publishMessage({ data: Buffer.from(JSON.stringify(r), "utf8"), attributes: attributes });
      }),
    );
    ids.push(...sent);
  }
  await t.flush();
  return ids;
}

/**
 * Pulls up to `maxMessages`, waiting at most `timeoutMs` for them, and returns them with ack and
 * nack handles. Nothing is acked here: unsettled messages come back after their ack deadline.
 */
export async function pullBatch(subscription: string, options: PullOptions = {}): Promise<PulledBatch> {
  const max = Math.max(1, options.maxMessages ?? 500);
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  const name = fullName("subscriptions", subscription, options.projectId);
  const client = await subscriberFor(options.projectId);
  const messages: PulledMessage[] = [];
  const seen = new Set<string>();
  while (messages.length < max) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let received: { ackId?: string | null; message?: { messageId?: string | null; data?: Uint8Array | string | null; attributes?: Record<string, string> | null; publishTime?: { seconds?: unknown; nanos?: number | null } | null } | null }[];
    try {
      const resp = await client.pull({ subscription: name, maxMessages: max - messages.length }, { timeout: Math.max(100, Math.min(left, 2_000)), retry: null as never });
      received = resp[0].receivedMessages ?? [];
    } catch (e) {
      // DEADLINE_EXCEEDED, or CANCELLED when the client ends the call at its timeout: nothing yet.
      const code = (e as { code?: number }).code;
      if (code === 4 || code === 1) continue;
      throw new Error(`pulling from ${name} failed: ${(e as Error).message}`);
    }
    for (const r of received) {
      if (!r.ackId || !r.message || seen.has(r.ackId)) continue;
      seen.add(r.ackId);
      messages.push(toPulled(client, name, r.ackId, r.message));
    }
    // A full batch, or something in hand and the queue momentarily empty: hand it over.
    if (received.length === 0 && messages.length > 0) break;
  }
  const ackIds = messages.map((m) => m.ackId);
  return {
    messages: messages,
    ack: () => settle(client, name, ackIds, "ack"),
    nack: () => settle(client, name, ackIds, "nack"),
  };
}

function toPulled(client: v1.SubscriberClient, subscription: string, ackId: string, m: NonNullable<Parameters<typeof publishTimeOf>[0]>): PulledMessage {
  const data = typeof m.data === "string" ? Buffer.from(m.data, "base64").toString("utf8") : Buffer.from(m.data ?? new Uint8Array()).toString("utf8");
  return {
    id: String(m.messageId ?? ""),
    data: data,
    publishTime: publishTimeOf(m),
    attributes: { ...(m.attributes ?? {}) },
    ackId: ackId,
    ack: () => settle(client, subscription, [ackId], "ack"),
    nack: () => settle(client, subscription, [ackId], "nack"),
  };
}

function publishTimeOf(m: { messageId?: string | null; data?: Uint8Array | string | null; attributes?: Record<string, string> | null; publishTime?: { seconds?: unknown; nanos?: number | null } | null }): string {
  const seconds = Number((m.publishTime?.seconds as { toString(): string } | undefined)?.toString() ?? 0);
  const ms = seconds * 1000 + Math.floor((m.publishTime?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

async function settle(client: v1.SubscriberClient, subscription: string, ackIds: readonly string[], how: "ack" | "nack"): Promise<void> {
  for (let i = 0; i < ackIds.length; i += 1000) {
    const ids = ackIds.slice(i, i + 1000);
    await retrying(`${how} ${ids.length} message(s) on ${subscription}`, async () => {
      if (how === "ack") await client.acknowledge({ subscription: subscription, ackIds: ids });
      else await client.modifyAckDeadline({ subscription: subscription, ackIds: ids, ackDeadlineSeconds: 0 });
    }, { maxAttempts: 4, timeoutMs: 30_000 });
  }
}

/**
 * The subscription as the stream loop (`pipeline/stream.ts`) uses it.
 *
 * @example
 * const done = startStream(new PubSubMessageSubscription("projects/acme/subscriptions/invoices"), opts).done;
 */
export class PubSubMessageSubscription implements MessageSubscription {
  constructor(readonly subscription: string, readonly options: { projectId?: string; timeoutMs?: number } = {}) {}

  async pull(maxMessages: number): Promise<{ messages: InboundMessage[]; ackIds: string[] }> {
    const batch = await pullBatch(this.subscription, { maxMessages: maxMessages, timeoutMs: this.options.timeoutMs, projectId: this.options.projectId });
    return {
      messages: batch.messages.map((m) => ({ id: m.id, data: m.data, publishTime: m.publishTime, attributes: m.attributes })),
      ackIds: batch.messages.map((m) => m.ackId),
    };
  }

  async ack(ackIds: readonly string[]): Promise<void> {
    const name = fullName("subscriptions", this.subscription, this.options.projectId);
    await settle(await subscriberFor(this.options.projectId), name, ackIds, "ack");
  }

  async nack(ackIds: readonly string[]): Promise<void> {
    const name = fullName("subscriptions", this.subscription, this.options.projectId);
    await settle(await subscriberFor(this.options.projectId), name, ackIds, "nack");
  }
}

/** Closes the clients this module opened (end of a CLI command or a test). */
export async function closePubSub(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  for (const c of all) {
    if (c.subscriber) await (await c.subscriber).close().catch(() => undefined);
    await c.pubsub.close().catch(() => undefined);
  }
}
