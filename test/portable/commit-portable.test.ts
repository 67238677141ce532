import { test } from "node:test";
import { stopBeforeCommitScenario } from "../pipeline/commit-scenario";

/** A portable run (4 bundles per stage) stopped after its sinks wrote and before its commit stage: nothing visible; the re-run lands once. */
test("portable: a run stopped before its commit stage leaves nothing visible; the re-run lands everything exactly once", async () => {
  await stopBeforeCommitScenario("portable");
});
