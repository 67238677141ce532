import { groupBy, parDo, withName, counter, type PCollection } from "apache-beam";
import type { Row } from "../model/row";
import type { SinkTarget, TableSpec } from "../model/backends";
import type { AggregateConfig, EntityConfig } from "../model/source-config";
import { dailyAverages } from "../transforms/sensor-averages";
import { jobsByLocation, jobsBySkill } from "../transforms/job-counts";
import { deadLetter } from "../model/dead-letter";
import { writeWarehouse } from "../sinks/beam-sinks";
import type { DeadLetter } from "../model/dead-letter";
import { split } from "apache-beam";

/** The dataproduct tables, exactly as ARCHITECTURE.md names them. */
export const DATAPRODUCT_TABLES: Record<AggregateConfig["type"], TableSpec> = {
  sensor_daily_averages: {
    name: "sensor_daily_averages",
    columns: [
      { name: "station_id", type: "string" },
      { name: "day", type: "date" },
      { name: "co_avg", type: "number" },
      { name: "pm25_avg", type: "number" },
      { name: "readings", type: "integer" },
    ],
    partitionColumn: "day",
  },
  jobs_by_location: { name: "jobs_by_location", columns: [{ name: "location", type: "string" }, { name: "postings", type: "integer" }] },
  jobs_by_skill: { name: "jobs_by_skill", columns: [{ name: "skill", type: "string" }, { name: "postings", type: "integer" }] },
};

/** Rows of one aggregate over all of an entity's kept rows, plus rows it rejected and why. */
export function computeAggregate(config: AggregateConfig, rows: readonly Row[]): { rows: Row[]; rejected: { reading: Row; reason: string }[] } {
  switch (config.type) {
    case "sensor_daily_averages": {
      const result = dailyAverages(rows, config);
      return { rows: result.rows as unknown as Row[], rejected: result.rejected };
    }
    case "jobs_by_location":
      return { rows: jobsByLocation(rows, config) as unknown as Row[], rejected: [] };
    case "jobs_by_skill":
      return { rows: jobsBySkill(rows, config) as unknown as Row[], rejected: [] };
  }
}

/**
 * Each declared aggregate of an entity: the entity's kept rows gathered once, the pure
 * aggregate applied, the dataproduct replaced (per affected partition where it has one).
 * Returns the rows the aggregates rejected, as dead letters.
 */
export function aggregateEntity(name: string, entity: EntityConfig, kept: PCollection<Row>, target: SinkTarget, runId: string): PCollection<DeadLetter>[] {
  const rejected: PCollection<DeadLetter>[] = [];
  for (const config of entity.aggregates) {
    const table = DATAPRODUCT_TABLES[config.type];
    const parts = kept
      .apply(withName(`Gather_${config.type}_${name}`, groupBy((_: Row) => "all")))
      .apply(withName(`Compute_${config.type}_${name}`, parDo({
        process: function* (group: { key: string; value: Iterable<Row> }, ctx: { rows: { increment: (n: number) => void } }) {
          const result = computeAggregate(config, [...group.value]);
          ctx.rows.increment(result.rows.length);
          for (const row of result.rows) yield { row: row };
          for (const r of result.rejected) {
            yield { dead: deadLetter({ stage: "aggregate", error: `${config.type}: ${r.reason}`, payload: r.reading, source: String(r.reading._source ?? ""), run_id: runId, entity: name }) };
          }
        },
      }, { rows: counter(`dataproducts/${table.name}`) })))
      .apply(withName(`Split_${config.type}_${name}`, split<{ row: Row; dead: DeadLetter }>(["row", "dead"])));
    parts.row.apply(writeWarehouse(target, "dataproduct", table));
    rejected.push(parts.dead);
  }
  return rejected;
}
