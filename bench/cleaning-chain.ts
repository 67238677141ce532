// The cleaning chain production runs (pipeline/graph.ts): `compileEntityCleaner` then the dedupe
// by primary key (`keyOf` + `pickLatest` after a groupBy), over N synthetic customer records
// (bench/customer-records.ts), on the direct runner and as the same functions in a plain Node
// loop, in one process. Prints both rates, their ratio and the peak RSS of the process.
//
//   node scripts/build.js && node --max-old-space-size=4096 dist/bench/cleaning-chain.js [N=1000000]
import { groupBy, impulse, parDo, split, withName, type PCollection, type Root } from "apache-beam";
import { countGlobally } from "apache-beam/transforms/group_and_combine";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Row } from "../model/row";
import { entitySchema } from "../model/source-config";
import { compileEntityCleaner, type EntityCleaner } from "../pipeline/entity-cleaner";
import { keyOf, pickLatest } from "../transforms/dedupe";
import { customerRecord, CUSTOMERS_ENTITY } from "./customer-records";

requireForSerialization("fs", fs);
requireForSerialization("api2lake/dist/bench/customer-records", { customerRecord: customerRecord });

const ENTITY = entitySchema.parse(CUSTOMERS_ENTITY);
const MAX_BYTES = 1_000_000;
const RUN = { runId: "bench", source: "/customers", fetchedAt: "2026-01-01T00:00:00.000Z" };
const PAGE_SIZE = 1000;

interface Counts { kept: number; failed: number; duplicates: number }

/** The same functions as the graph, one pass per record, dedupe through `pickLatest` over all clean rows. */
export function plainLoop(n: number): Counts {
  const cleaner = compileEntityCleaner(ENTITY, { maxRecordBytes: MAX_BYTES });
  const rows: Row[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const result = cleaner.clean(customerRecord(i), { runId: RUN.runId, source: RUN.source, page: String(Math.floor(i / PAGE_SIZE) + 1), fetchedAt: RUN.fetchedAt });
    if (result.ok) rows.push(result.row);
    else failed++;
  }
  const picked = pickLatest(rows, { primaryKey: ENTITY.primaryKey, orderBy: ENTITY.orderBy });
  return { kept: picked.kept.length, failed: failed, duplicates: picked.duplicates };
}

/** The graph's Clean / KeyByPrimaryKey / KeepLatest steps on the direct runner; counts written to a file and read back. */
export async function onRunner(n: number): Promise<Counts> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-chain-")), "counts.ndjson");
  const entity = ENTITY;
  await directRunner().run((root: Root) => {
    const records: PCollection<number> = root
      .apply(withName("Start", impulse()))
      .flatMap(withName("Positions", function* positions() { for (let i = 0; i < n; i++) yield i; }));
    const cleaned = records
      .apply(withName("Clean", parDo({
        startBundle: function (this: { cleaner?: EntityCleaner }) {
          this.cleaner = compileEntityCleaner(entity, { maxRecordBytes: MAX_BYTES });
        },
        process: function* (this: { cleaner: EntityCleaner }, i: number) {
          const result = this.cleaner.clean(customerRecord(i), { runId: RUN.runId, source: RUN.source, page: String(Math.floor(i / PAGE_SIZE) + 1), fetchedAt: RUN.fetchedAt });
          if (result.ok) yield { clean: { row: result.row, children: result.children } };
          else yield { dead: result.reason };
        },
      })))
      .apply(withName("SplitCleaned", split<{ clean: { row: Row; children: Record<string, Row[]> }; dead: string }>(["clean", "dead"])));
    const picked = cleaned.clean
      .apply(withName("KeyByPrimaryKey", groupBy((c: { row: Row }) => keyOf(c.row, entity.primaryKey))))
      .apply(withName("KeepLatest", parDo({
        process: function* (group: { key: string; value: Iterable<{ row: Row; children: Record<string, Row[]> }> }) {
          const versions = [...group.value];
          const latest = pickLatest(versions.map((v) => v.row), { primaryKey: entity.primaryKey, orderBy: entity.orderBy });
          for (const row of latest.kept) yield { kept: row };
          for (let d = 0; d < latest.duplicates; d++) yield { duplicate: 1 };
        },
      })))
      .apply(withName("SplitKept", split<{ kept: Row; duplicate: number }>(["kept", "duplicate"])));
    const write = (label: string) => function writeCount(count: number) { fs.appendFileSync(file, JSON.stringify({ label: label, count: count }) + "\n"); return count; };
    picked.kept.apply(withName("CountKept", countGlobally())).map(withName("WriteKept", write("kept")));
    picked.duplicate.apply(withName("CountDuplicates", countGlobally())).map(withName("WriteDuplicates", write("duplicates")));
    cleaned.dead.apply(withName("CountFailed", countGlobally())).map(withName("WriteFailed", write("failed")));
  });
  const lines = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { label: string; count: number });
  const get = (label: string) => lines.find((l) => l.label === label)?.count ?? 0;
  return { kept: get("kept"), failed: get("failed"), duplicates: get("duplicates") };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const t0 = process.hrtime.bigint();
  const loop = plainLoop(n);
  const t1 = process.hrtime.bigint();
  const runner = await onRunner(n);
  const t2 = process.hrtime.bigint();
  const loopS = Number(t1 - t0) / 1e9;
  const runnerS = Number(t2 - t1) / 1e9;
  if (JSON.stringify(loop) !== JSON.stringify(runner)) throw new Error(`results differ: loop ${JSON.stringify(loop)} runner ${JSON.stringify(runner)}`);
  console.log(`records: ${n}, kept: ${loop.kept}, failed: ${loop.failed}, duplicates: ${loop.duplicates}`);
  console.log(`plain loop:    ${loopS.toFixed(2)} s  (${Math.round(n / loopS)} records/s)`);
  console.log(`direct runner: ${runnerS.toFixed(2)} s  (${Math.round(n / runnerS)} records/s)`);
  console.log(`ratio runner/loop: ${(runnerS / loopS).toFixed(2)}x   peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
