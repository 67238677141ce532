import type { Warehouse } from "../model/backends";
import { LocalLake } from "../sinks/lake-local";

/**
 * All-or-nothing across crashes (local target): a run that never wrote its manifest, or whose
 * manifest says `committed: false` (its graph failed before the commit stage), never
 * committed, yet its sinks may have appended rows to `lake.<entity>` and the error tables and
 * left shards in `lake/_pending/<run>`. The next run - holding the `--out` lock, so no live run
 * is affected - rolls such runs back before it fetches: it deletes their rows (`_run_id`, or
 * `run_id` in `*_error_records`) and their pending shards. Hub rows are merged by primary key,
 * so they stay and the next run's merge settles them; their payload hash is cleared, so the next
 * run that brings the same version counts it as an update (accepted) rather than unchanged, and it
 * reaches the processed layer, whose files the rolled-back run never committed.
 * @returns the run ids rolled back (for the manifest).
 */
export async function rollBackOrphanedRuns(out: string, warehouse: Warehouse, currentRunId: string): Promise<string[]> {
  const lake = new LocalLake(out);
  const committed = async (runId: string) => {
    const text = await lake.readText(`runs/${runId}.json`);
    return text !== undefined && (JSON.parse(text) as { committed?: boolean }).committed !== false;
  };
  const orphans = new Set<string>();
  for (const runId of await lake.pendingRuns()) if (runId !== currentRunId && !(await committed(runId))) orphans.add(runId);
  const tables = await warehouse.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'lake'");
  for (const row of tables) {
    const table = String(row.t);
    const column = table.endsWith("_error_records") ? "run_id" : "_run_id";
    const ids = await warehouse.query(`SELECT DISTINCT ${column} AS id FROM lake.${table}`);
    for (const id of ids) {
      const runId = String(id.id);
      if (runId !== currentRunId && !orphans.has(runId) && !(await committed(runId))) orphans.add(runId);
    }
  }
  if (!orphans.size) return [];
  const list = [...orphans].sort();
  const quoted = list.map((id) => `'${id.replace(/'/g, "''")}'`).join(", ");
  for (const row of tables) {
    const table = String(row.t);
    const column = table.endsWith("_error_records") ? "run_id" : "_run_id";
    await warehouse.query(`DELETE FROM lake.${table} WHERE ${column} IN (${quoted})`);
  }
  const hubTables = await warehouse.query(
    "SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'hub' AND column_name IN ('_run_id', '_payload_hash')" +
      " GROUP BY 1 HAVING count(*) = 2",
  );
  for (const row of hubTables) await warehouse.query(`UPDATE hub."${String(row.t)}" SET _payload_hash = NULL WHERE _run_id IN (${quoted})`);
  for (const runId of list) await lake.discard(runId);
  return list;
}
