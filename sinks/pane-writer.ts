import * as crypto from "crypto";
import { groupBy, parDo, withName, type PCollection } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import type { ColumnSpec } from "../model/backends";
import type { ColumnsSideInput, SinkReport } from "./beam-sinks";

/** Writes one batch of rows; `shardBase` is unique per call (lake shard names). */
export type PaneFlush = (rows: Row[], shardBase: string, columns?: ColumnSpec[]) => Promise<SinkReport[]>;

/**
 * The writer of an unbounded graph (`SinkTarget.perWindow`): the rows of a window are gathered
 * per pane (the trigger of pipeline/stream-dataflow.ts fires a pane at most every 15 minutes
 * per window) and written in one call, so a table gets one load or DML per pane instead of one
 * per bundle - BigQuery allows 1 500 load jobs per table and day. The reports are emitted in
 * the pane's window, one set per write: what the in-graph commit stage consumes per window.
 */
export function paneWriter(flush: PaneFlush, columns?: ColumnsSideInput) {
  return (input: PCollection<Row>): PCollection<SinkReport> =>
    input
      .apply(withName("GatherPane", groupBy((_: Row) => "pane")))
      .apply(withName("WritePane", parDo({
        process: async function (group: { key: string; value: Iterable<Row> }, ctx: { columns?: { lookup: () => ColumnSpec[] } }) {
          return flush([...group.value], newPaneId(), ctx.columns ? ctx.columns.lookup() : undefined);
        },
      }, (columns ? { columns: columns } : {}) as never)));
}

/** A random id for the shards of one pane write (a retried pane writes new pending shards). */
export function newPaneId(): string {
  return "p" + crypto.randomBytes(6).toString("hex");
}

requireForSerialization("api2lake/dist/sinks/pane-writer", { newPaneId: newPaneId });
