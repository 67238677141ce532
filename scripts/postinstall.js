#!/usr/bin/env node
// Runs on `npm install`: applies our fixes to apache-beam (patches/), then builds when this is a
// development checkout. A Dataflow worker installs the packed project without devDependencies
// and with dist/ already built, so it only needs the patches (which apply idempotently).
const { spawnSync } = require("child_process");
const path = require("path");
const fs = require("fs");
const root = path.resolve(__dirname, "..");

const patch = spawnSync(process.execPath, [require.resolve("patch-package/index.js")], { stdio: "inherit", cwd: root });
if (patch.status !== 0) process.exit(patch.status ?? 1);

let hasCompiler = true;
try {
  require.resolve("typescript", { paths: [root] });
} catch {
  hasCompiler = false;
}
const isCheckout = fs.existsSync(path.join(root, "tsconfig.json")) && fs.existsSync(path.join(root, "pipeline"));
if (hasCompiler && isCheckout) {
  const build = spawnSync(process.execPath, [path.join(__dirname, "build.js")], { stdio: "inherit", cwd: root });
  process.exit(build.status ?? 1);
} else if (!fs.existsSync(path.join(root, "dist", "pipeline", "cli.js"))) {
  console.error("api2lake: no compiler and no dist/ - install with devDependencies (npm install) to build");
  process.exit(1);
}
