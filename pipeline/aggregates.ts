import { parDo, withName, counter, type PCollection } from "apache-beam";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { SinkTarget, TableSpec } from "../model/backends";
import type { AggregateConfig, EntityConfig } from "../model/source-config";
import { averageSensorDays } from "../transforms/sensor-averages";
import { countJobsByLocation, countJobsBySkill } from "../transforms/job-counts";
import { toDeadLetters } from "../transforms/dead-letters";
import { writeWarehouse } from "../sinks/beam-sinks";

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

/**
 * Each declared aggregate of an entity over its kept rows (the transforms' own PTransforms:
 * sensor averages in event time with one-day windows, job counts), replacing its dataproduct
 * (per affected partition where it has one). Returns what the aggregates rejected, as dead letters.
 */
export function aggregateEntity(name: string, entity: EntityConfig, kept: PCollection<Row>, target: SinkTarget, runId: string): PCollection<DeadLetter>[] {
  const rejected: PCollection<DeadLetter>[] = [];
  for (const config of entity.aggregates) {
    const table = DATAPRODUCT_TABLES[config.type];
    let rows: PCollection<Row>;
    if (config.type === "sensor_daily_averages") {
      const out = kept.apply(averageSensorDays({ ...config, label: `AverageSensorDays_${name}` }));
      rows = out.rows as unknown as PCollection<Row>;
      rejected.push(out.failed.apply(toDeadLetters({ runId: runId, entity: name, source: entity.path, label: `DeadLetterReadings_${name}` })));
    } else if (config.type === "jobs_by_location") {
      rows = kept.apply(countJobsByLocation({ ...config, label: `CountJobsByLocation_${name}` })) as unknown as PCollection<Row>;
    } else {
      rows = kept.apply(countJobsBySkill({ ...config, label: `CountJobsBySkill_${name}` })) as unknown as PCollection<Row>;
    }
    rows
      .apply(withName(`Count_${table.name}`, parDo({
        process: function* (row: Row, ctx: { rows: { increment: (n: number) => void } }) {
          ctx.rows.increment(1);
          yield row;
        },
      }, { rows: counter(`dataproducts/${table.name}`) })))
      .apply(writeWarehouse(target, "dataproduct", table));
  }
  return rejected;
}
