import type { SinkTarget } from "../model/backends";
import { openWarehouse } from "../sinks/open-backends";
import { UsageError } from "./usage-error";

type GcpTarget = Extract<SinkTarget, { kind: "gcp" }>;

// Required when a probe runs: only `--sink gcp` probes, and a local run must not load the Google Cloud clients.
const storageModule = () => require("@google-cloud/storage") as typeof import("@google-cloud/storage");
const bigtableModule = () => require("@google-cloud/bigtable") as typeof import("@google-cloud/bigtable");

/**
 * What a `--sink gcp` run asks Google Cloud before it fetches anything. Each probe answers
 * true/false for "exists"; a probe that throws means the service could not be asked.
 * `instanceExists` answers undefined when the service cannot tell (the Bigtable emulator has no
 * instance admin API and serves every instance name).
 */
export interface GcpProbes {
  bucketExists(): Promise<boolean>;
  instanceExists(): Promise<boolean | undefined>;
  /** Resolves when BigQuery answered a query; rejects with its error otherwise. */
  bigQueryReachable(): Promise<void>;
}

/** The real probes: `bucket.exists()`, `instance.exists()` and a `SELECT 1` through the warehouse's client. */
export function liveProbes(target: GcpTarget): GcpProbes {
  // A preflight answers in seconds or the service is not reachable: at most 15 s each, retries included.
  const timeoutMs = Math.min(target.timeoutMs, 15_000);
  return {
    bucketExists: async () => {
      const storage = new (storageModule().Storage)({ projectId: target.project, apiEndpoint: process.env.API2LAKE_STORAGE_ENDPOINT });
      return (await storage.bucket(target.bucket).exists())[0];
    },
    instanceExists: async () => {
      const bigtable = new (bigtableModule().Bigtable)({ projectId: target.project, metricsEnabled: false } as never);
      try {
        return (await bigtable.instance(target.bigtableInstance).exists({ timeout: timeoutMs }))[0];
      } catch (error) {
        // gRPC UNIMPLEMENTED (12) from the emulator: it has no instance admin and any instance name works there.
        if ((error as { code?: unknown }).code === 12 && process.env.BIGTABLE_EMULATOR_HOST) return undefined;
        throw error;
      } finally {
        await bigtable.close().catch(() => undefined);
      }
    },
    bigQueryReachable: async () => {
      const warehouse = await openWarehouse({ ...target, timeoutMs: timeoutMs });
      try {
        await warehouse.query("SELECT 1 AS ok");
      } finally {
        await warehouse.close().catch(() => undefined);
      }
    },
  };
}

/** The bucket must exist (the run lock lives in it, so this comes first). @throws UsageError naming it and `--bucket`. */
export async function checkBucket(target: GcpTarget, probes: GcpProbes): Promise<void> {
  let exists: boolean;
  try {
    exists = await probes.bucketExists();
  } catch (error) {
    throw new UsageError(`--bucket ${target.bucket}: Cloud Storage could not be asked whether it exists (${firstLine(error)}); check --project and your credentials`);
  }
  if (!exists) throw new UsageError(`--bucket ${target.bucket}: the bucket gs://${target.bucket} does not exist (or is not visible to these credentials); create it or fix --bucket`);
}

/**
 * The Bigtable instance must exist (when the run serves rows) and BigQuery must answer (its datasets
 * are created by the sink, so only reachability is checked). Every failure found is in the one message.
 * @throws UsageError naming the resource and the option that fixes it (`--bigtableInstance`, `--project`).
 */
export async function checkServices(target: GcpTarget, probes: GcpProbes, needs: { serving: boolean } = { serving: true }): Promise<void> {
  const problems: string[] = [];
  // Only a run with serving entities writes to Bigtable: others must not need its instance (or its credentials).
  if (needs.serving) {
    try {
      const exists = await probes.instanceExists();
      if (exists === false) {
        problems.push(`--bigtableInstance ${target.bigtableInstance}: the Bigtable instance projects/${target.project}/instances/${target.bigtableInstance} does not exist; create it or fix --bigtableInstance`);
      }
    } catch (error) {
      problems.push(`--bigtableInstance ${target.bigtableInstance}: Bigtable could not be asked whether the instance exists (${firstLine(error)}); check --project and your credentials`);
    }
  }
  try {
    await probes.bigQueryReachable();
  } catch (error) {
    problems.push(`--project ${target.project}: BigQuery could not be reached (${firstLine(error)}); check --project, your credentials and that the BigQuery API is enabled`);
  }
  if (problems.length) throw new UsageError(problems.join("\n"));
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0].slice(0, 300);
}
