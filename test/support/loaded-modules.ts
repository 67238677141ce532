import * as fs from "fs";

/**
 * Test-only preload (`NODE_OPTIONS="--require <this file>"`) for a CLI child process: when the
 * process exits, writes to the file named by API2LAKE_TEST_LOADED_MODULES one JSON array of
 * `{ id, children }` - every module in `require.cache` (absolute path) and every module it
 * required (Node's `module.children`, which also records a require answered from the cache).
 * Production code knows nothing of it.
 */
export interface LoadedModule {
  id: string;
  children: string[];
}

/** The package a module file belongs to (`@scope/name` or `name`), or undefined outside node_modules. */
export function packageOf(file: string): string | undefined {
  const m = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  return m ? m[1] : undefined;
}

const target = process.env.API2LAKE_TEST_LOADED_MODULES;
if (target) {
  process.on("exit", () => {
    const loaded: LoadedModule[] = Object.values(require.cache).map((m) => ({
      id: m!.filename,
      children: m!.children.map((c) => c.filename),
    }));
    fs.writeFileSync(target, JSON.stringify(loaded));
  });
}
