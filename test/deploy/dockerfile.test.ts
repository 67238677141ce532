import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

// No Docker engine runs here: these checks read the Dockerfile as text.
const ROOT = path.resolve(__dirname, "..", "..", "..");
const DIR = path.join(ROOT, "deploy", "flex-template");
const dockerfile = fs.readFileSync(path.join(DIR, "Dockerfile"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };

test("the image is Google's Python launcher with the launch script as FLEX_TEMPLATE_PYTHON_PY_FILE", () => {
  assert.match(dockerfile, /gcr\.io\/dataflow-templates-base\/python311-template-launcher-base/);
  assert.match(dockerfile, /FLEX_TEMPLATE_PYTHON_PY_FILE=\/template\/deploy\/flex-template\/launcher\.py/);
  assert.match(dockerfile, /COPY launcher\.py \/template\/deploy\/flex-template\/launcher\.py/);
  assert.match(dockerfile, /COPY metadata\.json \/template\/deploy\/metadata\.json/);
  assert.doesNotMatch(dockerfile, /^ENTRYPOINT/m, "the base image's launcher entrypoint must stay");
});

test("Node 20, the packed project without devDependencies, and Python Beam pinned to the TypeScript SDK's version", () => {
  assert.match(dockerfile, /node:20-/);
  assert.match(dockerfile, /npm install --omit=dev/);
  assert.match(dockerfile, /api2lake\.tgz/);
  const beam = /APACHE_BEAM_VERSION=(\S+)/.exec(dockerfile);
  assert.ok(beam, "APACHE_BEAM_VERSION not set");
  assert.equal(beam[1], pkg.dependencies["apache-beam"], "Python apache-beam must match the TypeScript SDK version");
  assert.match(dockerfile, /pip install --no-cache-dir "apache-beam\[gcp\]==\$\{APACHE_BEAM_VERSION\}"/);
});

test("BEAM_SERVICE_OVERRIDES points the SDK at the image's python (no venv bootstrap from PyPI at launch)", () => {
  const m = /ENV BEAM_SERVICE_OVERRIDES='([^']+)'/.exec(dockerfile);
  assert.ok(m, "BEAM_SERVICE_OVERRIDES not set");
  assert.deepEqual(JSON.parse(m[1]), { "python:*": "/usr/local/bin/python" });
});

test("the build script copies exactly what the Dockerfile COPYs into the context", () => {
  const build = fs.readFileSync(path.join(DIR, "build.sh"), "utf8");
  const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
  for (const f of copied) {
    const inContext = f === "api2lake.tgz" ? /api2lake\.tgz/.test(build) : new RegExp(`\\b${f.replace(".", "\\.")}\\b`).test(build);
    assert.ok(inContext, `Dockerfile COPYs ${f} but build.sh does not put it in the context`);
  }
});
