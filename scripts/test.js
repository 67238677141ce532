#!/usr/bin/env node
// The one test command (README: `npm test`): build, then run every compiled test with node's runner.
const { spawnSync } = require("child_process");
const path = require("path");
const fs = require("fs");
const root = path.resolve(__dirname, "..");
const build = spawnSync(process.execPath, [path.join(__dirname, "build.js")], { stdio: "inherit", cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);
const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full);
    // Only tests whose source still exists: dist/ may hold a deleted test's stale output.
    else if (e.name.endsWith(".test.js") && fs.existsSync(path.join(root, path.relative(path.join(root, "dist"), full)).replace(/\.js$/, ".ts")))
      files.push(path.relative(root, full));
  }
};
walk(path.join(root, "dist", "test"));
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((p) => f.includes(p))) : files;
const run = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...selected], { stdio: "inherit", cwd: root });
process.exit(run.status ?? 1);
