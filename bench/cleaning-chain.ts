// The full cleaning chain (lineage, names, validation, phones, dates, dedupe) over N synthetic
// customer records: on the direct runner (the thin PTransforms from transforms/), and as the same
// pure functions in a plain Node loop, in one process. Prints both rates and their ratio.
//
//   node scripts/build.js && node --max-old-space-size=4096 dist/bench/cleaning-chain.js [N=1000000]
import { impulse, withName, type PCollection, type Root } from "apache-beam";
import { countGlobally } from "apache-beam/transforms/group_and_combine";
import { directRunner } from "apache-beam/runners/direct_runner";
import { requireForSerialization } from "apache-beam/serialization";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Row } from "../model/row";
import type { FieldConfig } from "../model/source-config";
import { addLineage, withLineage, type SourcedRecord } from "../transforms/lineage";
import { createRenamer, sanitizeNames } from "../transforms/names";
import { validateRecords, validateRow } from "../transforms/validation";
import { applyPhones, normalizePhones } from "../transforms/phones";
import { compileDates, normalizeDates, type DateField } from "../transforms/dates";
import { compareLatest, dedupeLatest, keyOf } from "../transforms/dedupe";

requireForSerialization("fs", fs);

const FIELDS: Record<string, FieldConfig> = {
  customer_id: { type: "string", required: true },
  full_name: { type: "string", required: false, maxLength: 200 },
  total_spent: { type: "number", required: false, min: 0 },
  country: { type: "string", required: false },
};
const PHONES = { phone: { region: "FR" } };
const DATES: Record<string, DateField> = {
  signup_date: { formats: ["iso", "dd/MM/yyyy"], zone: "Europe/Paris", output: "date", required: true },
  updated_at: { formats: ["iso"], zone: "Europe/Paris", output: "timestamp", required: false },
};
const DEDUPE = { primaryKey: ["customer_id"], orderBy: "updated_at" };
const MAX_BYTES = 1_000_000;
const RUN = { runId: "bench", source: "/commerce/customers", ingestedAt: "2026-01-01T00:00:00.000Z" };

const PHONE_SHAPES = ["06 12 34 56 %%", "+33 6 12 34 56 %%", "0033 6 12 34 56 %%", "(415) 555-01%%", "020 7946 09%%", "n/a"];

/** Record i, deterministic: ~5% re-send an earlier customer, ~1% lack an id, ~1% carry a bad date. */
export function customer(i: number): SourcedRecord {
  const h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const id = h % 20 === 0 && i > 0 ? (h >>> 8) % i : i;
  const two = String(id % 100).padStart(2, "0");
  const day = 1 + (id % 28);
  const month = 1 + (id % 12);
  const shape = PHONE_SHAPES[(h >>> 4) % PHONE_SHAPES.length];
  const record: Row = {
    "Customer ID": h % 100 === 1 ? null : "C" + String(id).padStart(8, "0"),
    "Full Name": "Customer " + id,
    "Total Spent": ((h >>> 3) % 100000 / 100).toFixed(2),
    Phone: shape.replace("%%", two),
    country: shape.startsWith("(415)") ? "US" : shape.startsWith("020") ? "GB" : "FR",
    "Signup Date": h % 100 === 2 ? "31/31/2024" : h % 2 ? `2023-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}` : `${String(day).padStart(2, "0")}/${String(month).padStart(2, "0")}/2023`,
    updatedAt: new Date(Date.UTC(2024, 0, 1) + (h % 10_000_000) * 1000).toISOString().slice(0, 19),
  };
  return { record: record, _source: RUN.source, _page: String(Math.floor(i / 100)), fetched_at: RUN.ingestedAt };
}

interface Counts { kept: number; failed: number }

/** The same pure functions, one pass per record, dedupe through a Map. */
export function plainLoop(n: number): Counts {
  const rename = createRenamer();
  const dates = compileDates(DATES);
  const best = new Map<string, Row>();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = customer(i);
    const row = rename(withLineage(r.record as Row, { runId: RUN.runId, source: r._source ?? "", page: r._page ?? "", ingestedAt: r.fetched_at ?? "" }));
    const valid = validateRow(row, FIELDS, { maxRecordBytes: MAX_BYTES });
    if (!valid.ok) { failed++; continue; }
    const dated = dates(applyPhones(valid.value, PHONES), {});
    if (!dated.ok) { failed++; continue; }
    const key = keyOf(dated.value, DEDUPE.primaryKey);
    const current = best.get(key);
    if (current === undefined || compareLatest(dated.value, current, DEDUPE.orderBy) > 0) best.set(key, dated.value);
  }
  return { kept: best.size, failed: failed };
}

/** The thin PTransforms on the direct runner; counts are written to a file and read back. */
export async function onRunner(n: number): Promise<Counts> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-chain-")), "counts.ndjson");
  await directRunner().run((root: Root) => {
    const records: PCollection<SourcedRecord> = root
      .apply(withName("Start", impulse()))
      .flatMap(withName("GenerateCustomers", function* generateCustomers() { for (let i = 0; i < n; i++) yield customer(i); }));
    const lineaged = records.apply(addLineage({ runId: RUN.runId }));
    const valid = lineaged.ok.apply(sanitizeNames()).apply(validateRecords({ fields: FIELDS, maxRecordBytes: MAX_BYTES }));
    const dated = valid.ok.apply(normalizePhones({ phones: PHONES })).apply(normalizeDates({ dates: DATES }));
    const kept = dated.ok.apply(dedupeLatest(DEDUPE));
    const write = (label: string) => function writeCount(count: number) { fs.appendFileSync(file, JSON.stringify({ label: label, count: count }) + "\n"); return count; };
    kept.apply(withName("CountKept", countGlobally())).map(withName("WriteKept", write("kept")));
    valid.failed.apply(withName("CountInvalid", countGlobally())).map(withName("WriteInvalid", write("invalid")));
    dated.failed.apply(withName("CountUndated", countGlobally())).map(withName("WriteUndated", write("undated")));
  });
  const lines = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { label: string; count: number });
  const get = (label: string) => lines.find((l) => l.label === label)?.count ?? 0;
  return { kept: get("kept"), failed: get("invalid") + get("undated") };
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
  if (loop.kept !== runner.kept || loop.failed !== runner.failed) throw new Error(`results differ: loop ${JSON.stringify(loop)} runner ${JSON.stringify(runner)}`);
  console.log(`records: ${n}, kept: ${loop.kept}, failed: ${loop.failed}, duplicates: ${n - loop.kept - loop.failed}`);
  console.log(`plain loop:    ${loopS.toFixed(2)} s  (${Math.round(n / loopS)} records/s)`);
  console.log(`direct runner: ${runnerS.toFixed(2)} s  (${Math.round(n / runnerS)} records/s)`);
  console.log(`ratio runner/loop: ${(runnerS / loopS).toFixed(2)}x   peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
