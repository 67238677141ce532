import * as fs from "fs";

/** Whether `pid` is a live process (a zombie awaiting its reaper counts as gone). Linux `/proc`. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
