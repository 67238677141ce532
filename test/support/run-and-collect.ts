import "apache-beam"; // load the SDK in its own order first: the runner module alone hits a require cycle
import { directRunner } from "apache-beam/runners/direct_runner";
import type { PCollection, Root } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

requireForSerialization("fs", fs);

/**
 * Runs a pipeline on the direct runner (which serializes every DoFn) and returns what the built
 * collection held. Outputs go through a file: a DoFn's captured values are copies, so it cannot
 * push into an array of the test.
 */
export async function runAndCollect<T>(build: (root: Root) => PCollection<T>): Promise<T[]> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-collect-")), "out.ndjson");
  await directRunner().run((root: Root) => {
    build(root).map(function writeLine(x: T) {
      fs.appendFileSync(file, JSON.stringify(x) + "\n");
      return x;
    });
  });
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as T);
}
