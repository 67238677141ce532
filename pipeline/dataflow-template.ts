import * as fs from "fs";

/**
 * A Dataflow run with `templateLocation` (a Flex Template launch) only writes the job
 * description; Beam 2.49.0's Python job service then polls a job that was never created and
 * reports FAILED. Whether the template is there is what tells success from failure.
 */
export async function templateWritten(location: string): Promise<boolean> {
  const gcs = /^gs:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!gcs) return fs.existsSync(location);
  // Required only for a gs:// template: a local run must not load the Cloud Storage client.
  const cloudStorage = require("@google-cloud/storage") as typeof import("@google-cloud/storage");
  const client = new cloudStorage.Storage({ apiEndpoint: process.env.API2LAKE_STORAGE_ENDPOINT });
  return (await client.bucket(gcs[1]).file(gcs[2]).exists())[0];
}
