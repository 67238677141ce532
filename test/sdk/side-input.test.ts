import { test } from "node:test";
import * as assert from "node:assert/strict";
import { impulse, parDo, iterableSideInput, withName } from "apache-beam";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

requireForSerialization("fs", fs);

test("iterableSideInput gives every element all of its values, not just the first element", async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "beam-side-")), "out.ndjson");
  await directRunner().run((root) => {
    const lookup = root.apply(withName("ImpulseLookup", impulse())).flatMap(function* () { yield "x"; yield "y"; yield "z"; });
    root
      .apply(withName("ImpulseMain", impulse()))
      .flatMap(function* () { yield 1; yield 2; yield 3; })
      .apply(
        withName("CountSideValues", parDo(
          {
            process: function* (n: number, context: { side: { lookup: () => Iterable<string> } }) {
              const seen = [...context.side.lookup()].length;
              fs.appendFileSync(file, JSON.stringify({ n: n, seen: seen }) + "\n");
              yield n;
            },
          },
          { side: iterableSideInput(lookup) },
        )),
      );
  });
  const rows = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.length, 3);
  for (const row of rows) assert.equal(row.seen, 3, `element ${row.n} saw ${row.seen} side values`);
});
