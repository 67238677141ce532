import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { impulse, parDo, windowParam, withName } from "apache-beam";
import { assignTimestamps, windowInto } from "apache-beam/transforms/window";
import { fixedWindows } from "apache-beam/transforms/windowings";
import type { Window } from "apache-beam/values";
import { runAndCollect } from "../support/run-and-collect";
import type { Row } from "../../model/row";
import type { SinkTarget } from "../../model/backends";
import { flushLake, type LakeSinkSpec, type SinkReport } from "../../sinks/beam-sinks";
import { paneWriter } from "../../sinks/pane-writer";
import { instantOf } from "../../pipeline/stream-dataflow";

/**
 * The streaming sinks' writer on the direct runner: rows of two days in one bundle are written
 * once per day window, and each write's report comes out in its own window (what the per-window
 * commit consumes).
 */

const out = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-pane-writer-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));
const target: SinkTarget = { kind: "local", out: out };

test("a pane writer writes each day window's rows in one call and emits the report in that window", async () => {
  const rows: Row[] = [
    { id: 1, at: "2024-04-01T08:00:00.000Z" }, { id: 2, at: "2024-04-02T09:00:00.000Z" }, { id: 3, at: "2024-04-01T23:59:59.000Z" },
    { id: 4, at: "2024-04-02T00:00:00.000Z" }, { id: 5, at: "2024-04-01T00:00:00.000Z" },
  ];
  const spec: LakeSinkSpec = { target: target, layer: "raw", entity: "readings", runId: "r1", dateField: "at" };
  const collected = await runAndCollect<{ report: SinkReport; windowEnd: string }>((root) =>
    root
      .apply(impulse())
      .flatMap(withName("Rows", function* (): Generator<Row> { yield* rows; }))
      .apply(assignTimestamps((r: Row) => instantOf(Date.parse(String(r.at)))))
      .apply(windowInto(fixedWindows(86_400)))
      .apply(withName("PerPane", paneWriter((batch: Row[], shard: string) => flushLake(spec, batch, shard))))
      .apply(withName("WithWindow", parDo({
        process: function* (report: SinkReport, ctx: { window: { lookup: () => Window } }) {
          const end = (ctx.window.lookup() as Window & { end: { toString(): string } }).end;
          yield { report: report, windowEnd: new Date(Number(end.toString())).toISOString() };
        },
      }, { window: windowParam() }))),
  );
  const seen = collected
    .map((c) => ({ dt: /dt=([0-9-]+)/.exec(c.report.location)![1], written: c.report.written, windowEnd: c.windowEnd, pane: /r1-(p[0-9a-f]{12})-0\.ndjson$/.test(c.report.location) }))
    .sort((a, b) => (a.dt < b.dt ? -1 : 1));
  assert.deepEqual(seen, [
    { dt: "2024-04-01", written: 3, windowEnd: "2024-04-02T00:00:00.000Z", pane: true },
    { dt: "2024-04-02", written: 2, windowEnd: "2024-04-03T00:00:00.000Z", pane: true },
  ]);
  const pending = (day: string) => fs.readdirSync(path.join(out, "lake", "_pending", "r1", "raw", "readings", `dt=${day}`));
  assert.equal(pending("2024-04-01").length, 1);
  assert.equal(pending("2024-04-02").length, 1);
});
