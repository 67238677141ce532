import * as path from "path";
import { startDemoApi, DEFAULT_SIZES, DEFAULT_API_KEY, DEFAULT_BEARER_TOKEN } from "../sources/demo-api/server";
import type { DemoSizes } from "../sources/demo-api/server";
import type { CommandOptions } from "./options";
import { executeRun, printSummary } from "./run";
import { loadPreset, PRESET_NAMES } from "./presets";
import { exitCodeOf, handleInterrupts } from "./interrupts";
import { UsageError } from "./usage-error";
import { startRunConsole } from "./run-console";
import { mergeSecrets, openSecrets } from "../sources/rest/secrets";

/** Environment the presets read their base URL and secrets from. */
export function demoEnvironment(url: string): Record<string, string> {
  return { API2LAKE_DEMO_URL: url, API2LAKE_DEMO_API_KEY: DEFAULT_API_KEY, API2LAKE_DEMO_TOKEN: DEFAULT_BEARER_TOKEN };
}

function scaledSizes(scale: number): DemoSizes {
  const sizes = { ...DEFAULT_SIZES };
  for (const key of Object.keys(sizes) as (keyof DemoSizes)[]) {
    if (key !== "vehicleStatsPerDay" && key !== "stations" && key !== "readingsDays") sizes[key] = sizes[key] * scale;
  }
  return sizes;
}

/** The fleet preset's vehicle stats are sliced by day; the demo asks for the first three days of 2024. */
export const DEMO_RANGE = { from: "2024-01-01", to: "2024-01-03" } as const;

export async function demoCommand(options: CommandOptions<"demo">): Promise<number> {
  const api = await startDemoApi({ port: 0, seed: options.seed, sizes: scaledSizes(options.scale) });
  Object.assign(process.env, demoEnvironment(api.url));
  // Ctrl-C as in `run`: the pages in hand are committed as a partial run (exit 130); a second one aborts.
  const stopHandling = handleInterrupts();
  let shown: ReturnType<typeof startRunConsole> | undefined;
  try {
    const sources = PRESET_NAMES.map((name) => loadPreset(name));
    shown = startRunConsole(options, mergeSecrets(sources.map((s) => openSecrets(s).secrets)));
    const manifest = await executeRun({
      sources: sources,
      entities: "ALL",
      from: DEMO_RANGE.from,
      to: DEMO_RANGE.to,
      options: options,
    });
    shown.stop();
    printSummary(manifest, path.resolve(options.out), shown.summaryStream);
    return exitCodeOf(manifest.status);
  } finally {
    if (shown) shown.stop();
    stopHandling();
    await api.close();
  }
}

export async function demoApiCommand(options: CommandOptions<"demo-api">): Promise<number> {
  if (options.port > 65535) throw new UsageError(`--port: ${options.port} is not a TCP port (0-65535; 0 = any free port)`);
  const api = await startDemoApi({ port: options.port, seed: options.seed, sizes: scaledSizes(options.scale) }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") throw new UsageError(`--port ${options.port} is in use by another process: pick another, or 0 for any free port`);
    throw error;
  });
  console.log(`demo API on ${api.url} (X-API-Key: ${DEFAULT_API_KEY}, or Authorization: Bearer ${DEFAULT_BEARER_TOKEN}); Ctrl-C to stop`);
  console.log(`try: curl -H 'X-API-Key: ${DEFAULT_API_KEY}' '${api.url}/commerce/customers?page=1&per_page=5'`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await api.close();
  return 0;
}
