import { parDo, withName, flatten, groupBy, P, type PCollection } from "apache-beam";
import { requireForSerialization } from "apache-beam/serialization";
import type { Row } from "../model/row";
import type { DeadLetter } from "../model/dead-letter";
import type { RecomputeRequest, SinkTarget, StationDay, TableSpec } from "../model/backends";
import type { AggregateConfig, EntityConfig } from "../model/source-config";
import { checkReadingValues, compileReadingKeyer, localDayBounds, stationZone, type SensorAveragesConfig } from "../transforms/sensor-averages";
import { routeTagged, tag, toDeadLetters, type Tagged } from "../transforms/dead-letters";
import { openWarehouse } from "../sinks/open-backends";
import { counterName } from "./manifest";
import { addTally, tallyEach, type Tally } from "./tally";
import type { CommitInput } from "./commit-stage";

/**
 * What the recompute of one dataproduct waits for, gathered in one group: the keys the run
 * touched, the hub write's reports (the hub merge is done once the group exists), and the
 * requests that kept failing.
 */
type Signal = { key: StationDay } | { hubWritten: number } | { failed: FailedScope };

/** The dataproduct tables, exactly as ARCHITECTURE.md names them, plus the run that last computed each row. */
export const DATAPRODUCT_TABLES: Record<AggregateConfig["type"], TableSpec> = {
  sensor_daily_averages: {
    name: "sensor_daily_averages",
    columns: [
      { name: "station_id", type: "string" },
      { name: "day", type: "date" },
      { name: "co_avg", type: "number" },
      { name: "pm25_avg", type: "number" },
      { name: "readings", type: "integer" },
      { name: "_run_id", type: "string" },
    ],
    partitionColumn: "day",
  },
  jobs_by_location: {
    name: "jobs_by_location",
    columns: [{ name: "location", type: "string" }, { name: "postings", type: "integer" }, { name: "_run_id", type: "string" }],
  },
  jobs_by_skill: {
    name: "jobs_by_skill",
    columns: [{ name: "skill", type: "string" }, { name: "postings", type: "integer" }, { name: "_run_id", type: "string" }],
  },
};

/**
 * What a request that kept failing may have left out: readings of `station` (absent: any
 * station) at instants in `[startMs, endMs)` (UTC ms; absent: any time).
 */
export interface FailedScope {
  station?: string;
  startMs?: number;
  endMs?: number;
}

/**
 * The scope of a fetch dead letter (its payload is the request: `path_params`, `slice`, see
 * sources/rest/fetch-pages.ts). A path parameter named like the aggregate's station field names
 * the station; the slice bounds the time. A payload without either covers everything.
 */
export function failedScope(letter: DeadLetter, stationField: string | undefined): FailedScope {
  let request: { path_params?: Record<string, unknown>; slice?: { start?: unknown; end?: unknown } | null } = {};
  try {
    request = JSON.parse(letter.payload) ?? {};
  } catch {
    return {};
  }
  const scope: FailedScope = {};
  const station = stationField === undefined ? undefined : request.path_params?.[stationField];
  if (typeof station === "string" || typeof station === "number") scope.station = String(station);
  const start = Date.parse(String(request.slice?.start ?? ""));
  const end = Date.parse(String(request.slice?.end ?? ""));
  if (Number.isFinite(start) && Number.isFinite(end)) {
    scope.startMs = start;
    scope.endMs = end;
  }
  return scope;
}

/** Whether a failed request may have carried readings of `key` (its station's local day overlaps the scope). */
export function scopeCovers(scope: FailedScope, key: StationDay, config: SensorAveragesConfig): boolean {
  if (scope.station !== undefined && scope.station !== key.station_id) return false;
  if (scope.startMs === undefined || scope.endMs === undefined) return true;
  const day = localDayBounds(key.day, stationZone(config, key.station_id));
  return day.startMs < scope.endMs && scope.startMs < day.endMs;
}

/**
 * The keys to recompute: every touched key no failed request covers (sensor averages); for a
 * whole-table product, all or nothing. Returns the keys (`undefined` = whole table) and how many
 * were withheld, or `null` when nothing is to be recomputed.
 */
export function releasedKeys(config: AggregateConfig, signals: readonly Signal[]): { keys: StationDay[] | undefined; withheld: number } | null {
  if (!signals.some((s) => "hubWritten" in s)) return null;
  const failures = signals.flatMap((s) => ("failed" in s ? [s.failed] : []));
  if (config.type !== "sensor_daily_averages") return failures.length ? { keys: [], withheld: 1 } : { keys: undefined, withheld: 0 };
  const keys: StationDay[] = [];
  let withheld = 0;
  for (const s of signals) {
    if (!("key" in s)) continue;
    if (failures.some((f) => scopeCovers(f, s.key, config))) withheld++;
    else keys.push(s.key);
  }
  keys.sort((a, b) => (a.station_id < b.station_id ? -1 : a.station_id > b.station_id ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return { keys: keys, withheld: withheld };
}

/** Runs one recompute on the worker's warehouse (opened here, never captured). Returns the rows written. */
export async function recomputeFromHub(target: SinkTarget, request: RecomputeRequest): Promise<number> {
  const warehouse = await openWarehouse(target);
  try {
    return await warehouse.recomputeDataProduct(request);
  } finally {
    await warehouse.close();
  }
}

/**
 * Each declared aggregate of an entity, recomputed from the hub after the run's hub merge:
 * sensor averages for exactly the (station, local day) keys of the run's kept readings, job
 * counts for the whole table. Keys a failed request may cover are withheld (count
 * `<entity>/dataproduct_keys_withheld`; the run fails on the fetch failure itself); the rest are
 * recomputed. Returns the readings the aggregate refused (bad station, time or metric), as dead
 * letters, and the commit stage's inputs: tallies of rows written (`dataproducts/<table>`), keys
 * withheld and readings rejected (`<entity>/aggregate_rejected`).
 */
export function aggregateEntity(
  name: string,
  entity: EntityConfig,
  kept: PCollection<Row>,
  /** The hub merge's counts, one element per merge: the signal that the hub holds this run's rows. */
  hubMerged: PCollection<unknown>,
  target: SinkTarget,
  runId: string,
  readFailures: PCollection<DeadLetter>,
): { rejected: PCollection<DeadLetter>[]; results: PCollection<CommitInput>[] } {
  const rejected: PCollection<DeadLetter>[] = [];
  const results: PCollection<CommitInput>[] = [];
  if (entity.aggregates.length === 0) return { rejected: rejected, results: results };
  const withheldName = counterName(name, "dataproduct_keys_withheld");
  // (A grouping rather than a side input: the SDK serializes a side input's whole pipeline.)
  const hubWritten = hubMerged.apply(withName(`SignalHubWritten_${name}`, parDo({
    process: function* (_merged: unknown) {
      yield { hubWritten: 1 } as Signal;
    },
  })));
  for (const config of entity.aggregates) {
    const table = DATAPRODUCT_TABLES[config.type];
    const stationField = config.type === "sensor_daily_averages" ? config.stationField : undefined;
    const failed = readFailures.apply(withName(`ScopeFetchFailures_${table.name}_${name}`, parDo({
      process: function* (d: DeadLetter) {
        if (d.stage === "fetch") yield { failed: failedScope(d, stationField) } as Signal;
      },
    })));
    const signals: PCollection<Signal>[] = [hubWritten, failed];
    if (config.type === "sensor_daily_averages") {
      const touched = touchedStationDays(name, config, kept, runId, entity.path);
      rejected.push(touched.rejected);
      results.push(touched.counted);
      signals.push(touched.keys);
    }
    const rowsName = `dataproducts/${table.name}`;
    results.push(P(signals)
      .apply(withName(`JoinSignals_${table.name}_${name}`, flatten<Signal>()))
      .apply(withName(`GatherSignals_${table.name}_${name}`, groupBy((_: Signal) => "all")))
      .apply(withName(`RecomputeFromHub_${table.name}_${name}`, parDo({
        process: async function (group: { key: string; value: Iterable<Signal> }) {
          const released = releasedKeys(config, [...group.value]);
          if (released === null) return [];
          const tally: Tally = {};
          if (released.withheld) addTally(tally, withheldName, released.withheld);
          if (released.keys === undefined || released.keys.length > 0) {
            addTally(tally, rowsName, await recomputeFromHub(target, { table: table, hubTable: name, aggregate: config, keys: released.keys, runId: runId }));
          }
          return Object.keys(tally).length ? [{ tally: tally } as CommitInput] : [];
        },
      }))));
  }
  return { rejected: rejected, results: results };
}

/**
 * The distinct (station, local day) keys of the run's kept readings, and the readings the
 * aggregate refuses (counted `<entity>/aggregate_rejected`, stage `aggregate`).
 */
function touchedStationDays(
  name: string,
  config: SensorAveragesConfig,
  kept: PCollection<Row>,
  runId: string,
  source: string,
): { keys: PCollection<Signal>; rejected: PCollection<DeadLetter>; counted: PCollection<CommitInput> } {
  const plain: SensorAveragesConfig = JSON.parse(JSON.stringify(config));
  type KeyerState = { key?: ReturnType<typeof compileReadingKeyer> };
  const keyed = kept
    .apply(withName(`KeyReadings_${name}`, parDo({
      startBundle: function (this: KeyerState) { this.key = compileReadingKeyer(plain); },
      process: function* (this: KeyerState, reading: Row) {
        if (this.key === undefined) this.key = compileReadingKeyer(plain);
        const k = this.key(reading);
        if (!k.ok) { yield tag(k, "aggregate", reading); return; }
        const checked = checkReadingValues(k.value, plain);
        if (!checked.ok) { yield tag(checked, "aggregate", reading); return; }
        yield { ok: { station_id: checked.value.station, day: checked.value.day } } as Tagged<StationDay>;
      },
    })))
    .apply(routeTagged<StationDay>(`RouteKeyedReadings_${name}`));
  const keys = keyed.ok
    .apply(withName(`GroupStationDays_${name}`, groupBy((k: StationDay) => k.station_id + "\u0000" + k.day)))
    .apply(withName(`SignalStationDays_${name}`, parDo({
      process: function* (group: { key: string; value: Iterable<StationDay> }) {
        for (const k of group.value) {
          yield { key: k } as Signal;
          return;
        }
      },
    })));
  const rejected = keyed.failed
    .apply(toDeadLetters({ runId: runId, entity: name, source: source, label: `DeadLetterReadings_${name}` }));
  const rejectedName = counterName(name, "aggregate_rejected");
  const counted = rejected.apply(tallyEach(`CountRejectedReadings_${name}`, (_: DeadLetter, tally: Tally) => {
    addTally(tally, rejectedName, 1);
  }));
  return { keys: keys, rejected: rejected, counted: counted };
}

requireForSerialization("api2lake/dist/pipeline/aggregates", {
  failedScope: failedScope,
  scopeCovers: scopeCovers,
  releasedKeys: releasedKeys,
  recomputeFromHub: recomputeFromHub,
});
