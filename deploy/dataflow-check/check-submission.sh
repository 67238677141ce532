#!/usr/bin/env bash
# Offline check of Dataflow submissions (`npm run check:dataflow`; `npm test` runs it too): each
# `check_submission` call below runs api2lake with --runner dataflow through the real Python
# Dataflow job service (apache-beam[gcp]==2.49.0), with templateLocation + local staging/temp
# locations + noAuth, so the job description and every staged artifact land in a local folder and
# no Google API is called. Then checks what was submitted and staged. Prints PASS/FAIL/INFO lines
# and, last, `RESULT PASS` (exit 0) or `RESULT FAIL (...)` (exit 1). See README.md.
#
# usage: deploy/dataflow-check/check-submission.sh [--keep]     (run from anywhere, after a build)
# env:   API2LAKE_BEAM_VENV   (default ~/.cache/api2lake/python-beam-2.49.0; created by
#                              scripts/install-python-beam.sh if missing)
#        API2LAKE_CHECK_PYTHON (python >= 3.8 used to create the venv; default python3.11, else python3)
#        API2LAKE_CHECK_NO_SHIM=1  do not work around the duplicate @grpc/grpc-js (see README)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/api2lake-dfcheck.XXXXXX")"
FAILS=0
PIDS=()

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
info() { echo "INFO $*"; }
result() { echo; if [ "$FAILS" = 0 ]; then echo "RESULT PASS"; else echo "RESULT FAIL ($FAILS failing check group(s))"; fi; }
# A precondition failed: nothing more can be checked.
abort() { fail "$*"; result; exit 1; }
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  # On stderr: the last line of stdout stays the RESULT line.
  if [ "$KEEP" = 1 ]; then echo "INFO kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# 1. The Python side: apache-beam[gcp]==2.49.0 in a venv of its own (about 300 MB, once).
VENV="$("$ROOT/scripts/install-python-beam.sh")" || abort "venv: scripts/install-python-beam.sh failed"
pass "python-job-service: $("$VENV/bin/python" -W ignore -c 'import apache_beam, sys; print("apache-beam", apache_beam.__version__, "on Python", sys.version.split()[0])' 2>/dev/null)"

# 2. Preconditions in the checkout.
cd "$ROOT"
[ -f dist/pipeline/cli.js ] || abort "dist/pipeline/cli.js missing: run npm run build first"
if grep -q "api2lake patch" node_modules/apache-beam/dist/src/apache_beam/worker/operators.js 2>/dev/null; then
  pass "installed-sdk-is-patched: node_modules/apache-beam has the api2lake patch"
else
  fail "installed-sdk-is-patched: node_modules/apache-beam lacks the api2lake patch (npm install runs patch-package)"
fi

# The SDK builds ChannelCredentials with its own @grpc/grpc-js, but @protobuf-ts/grpc-transport
# may resolve another copy; its instanceof check then throws
# "Channel credentials must be a ChannelCredentials object" before anything is submitted.
GRPC_COPIES="$(node -e '
  const path = require("path");
  const main = require.resolve("apache-beam");
  const beamDir = main.slice(0, main.lastIndexOf(path.sep + "apache-beam" + path.sep) + ("/apache-beam").length);
  const gt = require.resolve("@protobuf-ts/grpc-transport", { paths: [beamDir] });
  const a = require.resolve("@grpc/grpc-js", { paths: [beamDir] });
  const b = require.resolve("@grpc/grpc-js", { paths: [path.dirname(gt)] });
  const v = (p) => require(p.slice(0, p.indexOf("/build/")) + "/package.json").version;
  console.log(a === b ? "same " + v(a) : "apache-beam uses @grpc/grpc-js " + v(a) + " (" + path.relative(process.cwd(), a) + "), @protobuf-ts/grpc-transport uses " + v(b) + " (" + path.relative(process.cwd(), b) + ")");
' 2>&1)"
NODE_PRELOAD=()
case "$GRPC_COPIES" in
  same*) pass "single-grpc-js: apache-beam and @protobuf-ts/grpc-transport share @grpc/grpc-js ${GRPC_COPIES#same }" ;;
  *) fail "single-grpc-js: $GRPC_COPIES - the portable/dataflow runner fails with 'Channel credentials must be a ChannelCredentials object'"
     if [ "${API2LAKE_CHECK_NO_SHIM:-}" != 1 ]; then
       info "continuing with deploy/dataflow-check/grpc-shim.js preloaded (module resolution only) to check the rest"
       NODE_PRELOAD=(-r "$HERE/grpc-shim.js")
     fi ;;
esac

# 3. Local stand-ins: the demo API (the config's base URL) and, when installed, fake-gcs-server
#    for the manifest the CLI writes after the graph (else a closed port: that write just fails).
freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
node bin/api2lake.js demo-api --port 0 > "$WORK/demo-api.log" 2>&1 &
DEMO_PID=$!
PIDS+=($DEMO_PID)
DEMO_URL=""
# Until it prints its URL or dies (a loaded machine may take many seconds to start Node).
for _ in $(seq 1 1200); do
  DEMO_URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/demo-api.log" | head -1)"
  { [ -n "$DEMO_URL" ] || ! kill -0 "$DEMO_PID" 2>/dev/null; } && break; sleep 0.1
done
[ -n "$DEMO_URL" ] && info "demo API at $DEMO_URL" || abort "demo-api did not start: $(cat "$WORK/demo-api.log")"

STORAGE_ENDPOINT="http://127.0.0.1:9"
FAKE_GCS="$(ls -d "$HOME"/.cache/api2lake/emulators/fake-gcs-server-*/bin/fake-gcs-server 2>/dev/null | tail -1)"
if [ -n "$FAKE_GCS" ]; then
  GP="$(freeport)"; mkdir -p "$WORK/gcs/some-bucket"
  "$FAKE_GCS" -scheme http -host 127.0.0.1 -port "$GP" -backend filesystem -filesystem-root "$WORK/gcs" \
    -external-url "http://127.0.0.1:$GP" -public-host "127.0.0.1:$GP" -log-level error > "$WORK/gcs.log" 2>&1 &
  PIDS+=($!)
  STORAGE_ENDPOINT="http://127.0.0.1:$GP"
  info "fake-gcs-server for gs://some-bucket at $STORAGE_ENDPOINT"
fi

# The Dataflow job service, started here rather than by the TypeScript runner: the SDK gives the
# one it starts 10 s to listen, which a loaded machine exceeds (importing apache_beam alone can).
# It serves every submission below; the runner reaches it through BEAM_SERVICE_OVERRIDES.
"$VENV/bin/python" -W ignore -m apache_beam.runners.dataflow.dataflow_job_service --port 0 > "$WORK/job-service.log" 2>&1 &
JS_PID=$!
PIDS+=($JS_PID)
JS_PORT=""
for _ in $(seq 1 1200); do
  JS_PORT="$(grep -o 'Listening for beam jobs on port [0-9]*' "$WORK/job-service.log" | head -1 | grep -o '[0-9]*$')"
  { [ -n "$JS_PORT" ] || ! kill -0 "$JS_PID" 2>/dev/null; } && break; sleep 0.1
done
[ -n "$JS_PORT" ] && info "Dataflow job service (pid $JS_PID) on port $JS_PORT" || abort "dataflow-job-service did not start: $(tail -20 "$WORK/job-service.log")"

# 4. The submissions. Canary secrets (never valid anywhere) so a hit means the value travelled.
#    Nothing contacts the API at submission time (the presets used here have no slices to plan).
CANARY_KEY="api2lake-canary-key-$RANDOM$RANDOM"
CANARY_TOKEN="api2lake-canary-token-$RANDOM$RANDOM"
DEAD="http://127.0.0.1:9"   # any non-local HTTP(S) request goes to a closed port and fails

# check_submission NAME JOB_TYPE STEPS -- API2LAKE_ARGS...
#   Submits `api2lake API2LAKE_ARGS...` offline into $WORK/NAME (job.json, staging/, run.log) and
#   checks it; every check line is prefixed with NAME. JOB_TYPE is the job description's `type`
#   (JOB_TYPE_BATCH | JOB_TYPE_STREAMING); STEPS is a comma list of transform unique names
#   (e.g. ReadRest_jobs/FetchPages) the staged pipeline must contain.
check_submission() {
  local name="$1" job_type="$2" steps="$3"; shift 4
  local dir="$WORK/$name"; local job="$dir/job.json"
  mkdir -p "$dir/staging" "$dir/tmp" "$dir/gcloud"
  info "$name: running api2lake $*"
  local start; start=$(date +%s)
  env -u GOOGLE_APPLICATION_CREDENTIALS \
    API2LAKE_DEMO_URL="$DEMO_URL" API2LAKE_DEMO_API_KEY="$CANARY_KEY" API2LAKE_DEMO_TOKEN="$CANARY_TOKEN" \
    BEAM_SERVICE_OVERRIDES="{\"python:apache_beam.runners.dataflow.dataflow_job_service\":\"localhost:$JS_PORT\"}" \
    API2LAKE_DATAFLOW_OPTIONS="{\"templateLocation\":\"$job\",\"stagingLocation\":\"$dir/staging\",\"tempLocation\":\"$dir/tmp\",\"noAuth\":true}" \
    API2LAKE_STORAGE_ENDPOINT="$STORAGE_ENDPOINT" STORAGE_EMULATOR_HOST="$STORAGE_ENDPOINT/storage/v1" \
    CLOUDSDK_CONFIG="$dir/gcloud" GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
    HTTPS_PROXY="$DEAD" HTTP_PROXY="$DEAD" https_proxy="$DEAD" http_proxy="$DEAD" \
    NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1 PYTHONWARNINGS=ignore \
    timeout 600 node "${NODE_PRELOAD[@]}" bin/api2lake.js "$@" > "$dir/run.log" 2>&1
  local rc=$?
  info "$name: api2lake exited $rc after $(( $(date +%s) - start )) s; log: $dir/run.log (--keep to keep it)"
  grep -E "^(run |error: |api2lake: )" "$dir/run.log" | sed "s/^/INFO   | /"

  if [ -s "$job" ]; then pass "$name: template-written: $job ($(wc -c < "$job") bytes)"; else
    fail "$name: template-written: no job description at $job"; tail -40 "$dir/run.log"; return; fi
  if [ "$rc" = 0 ]; then pass "$name: exit-0: api2lake exited 0 after writing the template"; else
    fail "$name: exit-0: api2lake exited $rc although the template was written"; fi
  if grep -q "127.0.0.1:9\b" "$dir/run.log" "$WORK/job-service.log"; then fail "$name: offline: something tried a non-local address (see run.log, job-service.log)"; else
    pass "$name: offline: no request reached the dead proxy/metadata address; noAuth=true, local staging"; fi

  # What was submitted and staged.
  "$VENV/bin/python" -W ignore "$HERE/inspect_submission.py" --label "$name" --job-type "$job_type" --steps "$steps" \
    "$job" "$ROOT/node_modules/apache-beam" "$CANARY_KEY" "$CANARY_TOKEN" \
    | sed "s/$CANARY_KEY/<canary api key>/g; s/$CANARY_TOKEN/<canary token>/g"
  [ "${PIPESTATUS[0]}" = 0 ] || FAILS=$((FAILS + 1))
}

# The batch graph: the jobs preset (REST read, lake, hub, two dataproducts).
check_submission batch JOB_TYPE_BATCH \
  "ReadRest_jobs/FetchPages,WriteLake(raw/postings),WriteLake(processed/postings),WriteHub(hub.postings),RecomputeFromHub_jobs_by_location_postings,RecomputeFromHub_jobs_by_skill_postings" \
  -- run --runner dataflow --sink gcp --project some-project --bucket some-bucket --config jobs
# The streaming graph is checked the same way, one more call here (see README.md).

result
exit $([ "$FAILS" = 0 ] && echo 0 || echo 1)
