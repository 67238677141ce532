import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import { withName, type PCollection, type Root } from "apache-beam";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

requireForSerialization("fs", fs);

/**
 * Runs a pipeline on the direct runner (which serializes every function) and returns what
 * reached each named output, read back from one NDJSON file per output.
 */
export async function runCollecting(build: (root: Root) => Record<string, PCollection<unknown>>): Promise<Record<string, unknown[]>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beam-transforms-"));
  const names: string[] = [];
  await directRunner().run((root: Root) => {
    const outputs = build(root);
    for (const name of Object.keys(outputs)) {
      names.push(name);
      const file = path.join(dir, name + ".ndjson");
      outputs[name].map(withName("Collect_" + name, function collect(x: unknown) {
        fs.appendFileSync(file, JSON.stringify(x) + "\n");
        return x;
      }));
    }
  });
  const out: Record<string, unknown[]> = {};
  for (const name of names) {
    const file = path.join(dir, name + ".ndjson");
    out[name] = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
  }
  return out;
}
