#!/usr/bin/env bash
# Offline check of a Dataflow submission: runs
#   api2lake run --runner dataflow --sink gcp --project some-project --bucket some-bucket --config jobs
# through the real Python Dataflow job service (apache-beam[gcp]==2.49.0), with
# templateLocation + local staging/temp locations + noAuth, so the job description and every
# staged artifact land in a local folder and no Google API is called. Then checks what was
# staged. Prints PASS/FAIL/INFO lines; exits 1 if any check failed. See README.md.
#
# usage: deploy/dataflow-check/check-submission.sh [--keep]     (run from anywhere)
# env:   API2LAKE_BEAM_VENV   (default ~/.cache/api2lake/python-beam-2.49.0; created if missing)
#        API2LAKE_CHECK_PYTHON (python >= 3.8 used to create the venv; default python3.11, else python3)
#        API2LAKE_CHECK_NO_SHIM=1  do not work around the duplicate @grpc/grpc-js (see README)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${API2LAKE_BEAM_VENV:-$HOME/.cache/api2lake/python-beam-2.49.0}"
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/api2lake-dfcheck.XXXXXX")"
FAILS=0
PIDS=()

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
info() { echo "INFO $*"; }
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  if [ "$KEEP" = 1 ]; then info "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# 1. The Python side: apache-beam[gcp]==2.49.0 in a venv of its own (about 300 MB, once).
if ! "$VENV/bin/python" -c 'import apache_beam, sys; sys.exit(apache_beam.__version__ != "2.49.0")' 2>/dev/null; then
  PY="${API2LAKE_CHECK_PYTHON:-$(command -v python3.11 || command -v python3)}"
  info "creating $VENV with $PY and installing apache-beam[gcp]==2.49.0"
  "$PY" -m venv "$VENV" && "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q 'apache-beam[gcp]==2.49.0' \
    || { fail "venv: pip install apache-beam[gcp]==2.49.0 failed"; exit 1; }
fi
pass "python-job-service: $("$VENV/bin/python" -W ignore -c 'import apache_beam, sys; print("apache-beam", apache_beam.__version__, "on Python", sys.version.split()[0])' 2>/dev/null)"

# 2. Preconditions in the checkout.
cd "$ROOT"
[ -f dist/pipeline/cli.js ] || { fail "dist/pipeline/cli.js missing: run npm run build first"; exit 1; }
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
PIDS+=($!)
DEMO_URL=""
for _ in $(seq 1 100); do
  DEMO_URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/demo-api.log" | head -1)"
  [ -n "$DEMO_URL" ] && break; sleep 0.1
done
[ -n "$DEMO_URL" ] && info "demo API at $DEMO_URL" || { fail "demo-api did not start: $(cat "$WORK/demo-api.log")"; exit 1; }

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

# 4. The submission. Canary secrets (never valid anywhere) so a hit means the value travelled.
#    Nothing contacts the API at submission time (the jobs preset has no slices to plan).
CANARY_KEY="api2lake-canary-key-$RANDOM$RANDOM"
CANARY_TOKEN="api2lake-canary-token-$RANDOM$RANDOM"
mkdir -p "$WORK/staging" "$WORK/tmp" "$WORK/gcloud"
JOB="$WORK/job.json"
DEAD="http://127.0.0.1:9"   # any non-local HTTP(S) request goes to a closed port and fails
info "running api2lake run --runner dataflow --sink gcp --project some-project --bucket some-bucket --config jobs"
START=$(date +%s)
env -u GOOGLE_APPLICATION_CREDENTIALS \
  API2LAKE_DEMO_URL="$DEMO_URL" API2LAKE_DEMO_API_KEY="$CANARY_KEY" API2LAKE_DEMO_TOKEN="$CANARY_TOKEN" \
  BEAM_SERVICE_OVERRIDES="{\"python:*\":\"$VENV/bin/python\"}" \
  API2LAKE_DATAFLOW_OPTIONS="{\"templateLocation\":\"$JOB\",\"stagingLocation\":\"$WORK/staging\",\"tempLocation\":\"$WORK/tmp\",\"noAuth\":true}" \
  API2LAKE_STORAGE_ENDPOINT="$STORAGE_ENDPOINT" STORAGE_EMULATOR_HOST="$STORAGE_ENDPOINT/storage/v1" \
  CLOUDSDK_CONFIG="$WORK/gcloud" GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
  HTTPS_PROXY="$DEAD" HTTP_PROXY="$DEAD" https_proxy="$DEAD" http_proxy="$DEAD" \
  NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1 PYTHONWARNINGS=ignore \
  timeout 600 node "${NODE_PRELOAD[@]}" bin/api2lake.js run --runner dataflow --sink gcp \
    --project some-project --bucket some-bucket --config jobs > "$WORK/run.log" 2>&1
RC=$?
# A run that fails before the job completes leaves its job service running (orphaned): stop
# the one this run started, found by the port it printed.
JS_PORT="$(grep -o 'Listening for beam jobs on port [0-9]*' "$WORK/run.log" | head -1 | grep -o '[0-9]*$')"
if [ -n "$JS_PORT" ]; then
  JS_PID="$(pgrep -f "apache_beam.runners.dataflow.dataflow_job_service --port $JS_PORT\$" | head -1)"
  [ -n "$JS_PID" ] && { info "job service (pid $JS_PID, port $JS_PORT) outlived the run: stopping it"; kill "$JS_PID"; }
fi
info "api2lake exited $RC after $(( $(date +%s) - START )) s; log: $WORK/run.log (--keep to keep it)"
grep -E "^(run |error: |api2lake: )|Staging file locally|template was just created|AttributeError" "$WORK/run.log" | sed 's/^/INFO   | /'

if [ -s "$JOB" ]; then pass "template-written: $JOB ($(wc -c < "$JOB") bytes)"; else
  fail "template-written: no job description at $JOB"; tail -40 "$WORK/run.log"; exit 1; fi
if grep -q "127.0.0.1:9\b" "$WORK/run.log"; then fail "offline: something tried a non-local address (see run.log)"; else
  pass "offline: no request reached the dead proxy/metadata address; noAuth=true, local staging"; fi
# Expected after a template is written: the job service polls a job that was never created.
if grep -q "Job finished in state FAILED" "$WORK/run.log" && grep -q "'NoneType' object has no attribute 'id'" "$WORK/run.log"; then
  info "known: after writing the template the Python job service polls a job that was never created (AttributeError in poll_for_job_completion), so the TS run reports 'Job finished in state FAILED'"
fi

# 5. What was submitted and staged.
"$VENV/bin/python" -W ignore "$HERE/inspect_submission.py" "$JOB" "$ROOT/node_modules/apache-beam" "$CANARY_KEY" "$CANARY_TOKEN" \
  | sed "s/$CANARY_KEY/<canary api key>/g; s/$CANARY_TOKEN/<canary token>/g"
[ "${PIPESTATUS[0]}" = 0 ] || FAILS=$((FAILS + 1))

echo
if [ "$FAILS" = 0 ]; then echo "RESULT PASS"; else echo "RESULT FAIL ($FAILS failing check group(s))"; fi
exit $([ "$FAILS" = 0 ] && echo 0 || echo 1)
