import { parDo, withName, counter, flatten, groupBy, P, type PCollection } from "apache-beam";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { SinkTarget, TableSpec } from "../model/backends";
import type { AggregateConfig, EntityConfig } from "../model/source-config";
import { averageSensorDays } from "../transforms/sensor-averages";
import { countJobsByLocation, countJobsBySkill } from "../transforms/job-counts";
import { toDeadLetters } from "../transforms/dead-letters";
import { writeWarehouse } from "../sinks/beam-sinks";
import { counterName } from "./manifest";

/** An aggregate row on its way to a dataproduct, or the news that the read was incomplete. */
type Gated = { row: Row } | { failedPage: string };

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
export function aggregateEntity(name: string, entity: EntityConfig, kept: PCollection<Row>, target: SinkTarget, runId: string, readFailures: PCollection<DeadLetter>): PCollection<DeadLetter>[] {
  const rejected: PCollection<DeadLetter>[] = [];
  if (entity.aggregates.length === 0) return rejected;
  // A dataproduct is replaced, so it is only written from a complete read: pages that kept
  // failing (stage "fetch") hold back every aggregate of the entity, and the run fails. (A
  // grouping rather than a side input: the SDK serializes a side input's whole pipeline.)
  const failedPages = readFailures.apply(withName(`KeepFetchFailures_${name}`, parDo({
    process: function* (d: DeadLetter) {
      if (d.stage === "fetch") yield { failedPage: d.error } as Gated;
    },
  })));
  for (const config of entity.aggregates) {
    const table = DATAPRODUCT_TABLES[config.type];
    let rows: PCollection<Row>;
    if (config.type === "sensor_daily_averages") {
      const out = kept.apply(averageSensorDays({ ...config, label: `AverageSensorDays_${name}` }));
      rows = out.rows as unknown as PCollection<Row>;
      rejected.push(out.failed
        .apply(toDeadLetters({ runId: runId, entity: name, source: entity.path, label: `DeadLetterReadings_${name}` }))
        .apply(withName(`CountRejectedReadings_${name}`, parDo({
          process: function* (d: DeadLetter, ctx: { rejected: { increment: (n: number) => void } }) {
            ctx.rejected.increment(1);
            yield d;
          },
        }, { rejected: counter(counterName(name, "aggregate_rejected")) }))));
    } else if (config.type === "jobs_by_location") {
      rows = kept.apply(countJobsByLocation({ ...config, label: `CountJobsByLocation_${name}` })) as unknown as PCollection<Row>;
    } else {
      rows = kept.apply(countJobsBySkill({ ...config, label: `CountJobsBySkill_${name}` })) as unknown as PCollection<Row>;
    }
    const candidates = rows.apply(withName(`Candidates_${table.name}_${name}`, parDo({
      process: function* (row: Row) {
        yield { row: row } as Gated;
      },
    })));
    P([candidates, failedPages])
      .apply(withName(`Join_${table.name}_${name}`, flatten<Gated>()))
      .apply(withName(`Gather_${table.name}_${name}`, groupBy((_: Gated) => "all")))
      .apply(withName(`ReleaseIfComplete_${table.name}_${name}`, parDo({
        process: function* (group: { key: string; value: Iterable<Gated> }, ctx: { rows: { increment: (n: number) => void } }) {
          const all = [...group.value];
          if (all.some((g) => "failedPage" in g)) return;
          for (const g of all) {
            if ("row" in g) {
              ctx.rows.increment(1);
              yield g.row;
            }
          }
        },
      }, { rows: counter(`dataproducts/${table.name}`) })))
      .apply(writeWarehouse(target, "dataproduct", table));
  }
  return rejected;
}
