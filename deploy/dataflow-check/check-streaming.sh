#!/usr/bin/env bash
# Offline check of the STREAMING Dataflow submission (second case beside check-submission.sh):
#   api2lake stream --runner dataflow --sink gcp --project some-project --bucket some-bucket \
#     --config airquality --entity readings --subscription readings-api2lake
# goes through the real Python Dataflow job service (apache-beam[gcp]==2.49.0) with
# templateLocation + local staging/temp + noAuth, so the job description and every staged
# artifact land in a local folder and no Google API is called. For comparison, Python's own
# ReadFromPubSub is submitted the same way (python_streaming_reference.py). inspect_streaming.py
# then checks the job: streaming flag, the Pub/Sub read as Dataflow expects it, the windowing,
# worker images, the staged patched SDK, no secret anywhere. Prints PASS/FAIL/INFO lines and
# `RESULT PASS|FAIL`; exits 1 if any check failed. See README.md ("Streaming submission").
#
# usage: deploy/dataflow-check/check-streaming.sh [--keep]     (run from anywhere, after a build)
# env:   API2LAKE_BEAM_VENV (default ~/.cache/api2lake/python-beam-2.49.0; check-submission.sh creates it)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${API2LAKE_BEAM_VENV:-$HOME/.cache/api2lake/python-beam-2.49.0}"
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/api2lake-dfstream.XXXXXX")"
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

"$VENV/bin/python" -c 'import apache_beam, sys; sys.exit(apache_beam.__version__ != "2.49.0")' 2>/dev/null \
  || { fail "python-job-service: no apache-beam 2.49.0 in $VENV (deploy/dataflow-check/check-submission.sh creates it)"; exit 1; }
cd "$ROOT"
[ -f dist/pipeline/stream-dataflow.js ] || { fail "dist/pipeline/stream-dataflow.js missing: run npm run build first"; exit 1; }

freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
waitport() { for _ in $(seq 1 600); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; return 1; }
DEAD="http://127.0.0.1:9"   # any non-local HTTP(S) request goes to a closed port and fails
OFFLINE_ENV=(-u GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG="$WORK/gcloud" GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9
  HTTPS_PROXY="$DEAD" HTTP_PROXY="$DEAD" https_proxy="$DEAD" http_proxy="$DEAD" NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1 PYTHONWARNINGS=ignore)
mkdir -p "$WORK/gcloud" "$WORK/ts/staging" "$WORK/ts/tmp" "$WORK/py/staging" "$WORK/py/tmp" "$WORK/gcs/some-bucket"
SUBSCRIPTION="projects/some-project/subscriptions/readings-api2lake"

# 1. The reference: Python's ReadFromPubSub + the same windowing, through Beam's DataflowRunner.
env "${OFFLINE_ENV[@]}" timeout 600 "$VENV/bin/python" -W ignore "$HERE/python_streaming_reference.py" "$WORK/py" "$SUBSCRIPTION" > "$WORK/py.log" 2>&1
[ -s "$WORK/py/job.json" ] && pass "python-reference-written: $WORK/py/job.json" \
  || { fail "python-reference-written: $(tail -5 "$WORK/py.log")"; exit 1; }

# 2. The job service, started here (the SDK gives a service it starts 10 s to open its port,
#    too little on a loaded machine) and handed to the TS runner by address.
JS_PORT="$(freeport)"
env "${OFFLINE_ENV[@]}" "$VENV/bin/python" -m apache_beam.runners.dataflow.dataflow_job_service --port "$JS_PORT" > "$WORK/job-service.log" 2>&1 &
PIDS+=($!)
waitport "$JS_PORT" && info "Dataflow job service on port $JS_PORT" || { fail "job service did not open port $JS_PORT: $(tail -5 "$WORK/job-service.log")"; exit 1; }

# 3. State (the entity's persisted schema) is read from the bucket at submission: fake-gcs-server.
FAKE_GCS="$(ls -d "$HOME"/.cache/api2lake/emulators/fake-gcs-server-*/bin/fake-gcs-server 2>/dev/null | tail -1)"
[ -n "$FAKE_GCS" ] || { fail "fake-gcs-server not installed (test/emulators/install.sh)"; exit 1; }
GP="$(freeport)"
"$FAKE_GCS" -scheme http -host 127.0.0.1 -port "$GP" -backend filesystem -filesystem-root "$WORK/gcs" \
  -external-url "http://127.0.0.1:$GP" -public-host "127.0.0.1:$GP" -log-level error > "$WORK/gcs.log" 2>&1 &
PIDS+=($!)
waitport "$GP" || { fail "fake-gcs-server did not start"; exit 1; }

# 4. The TypeScript streaming submission, with canary secrets (a hit means the value travelled).
CANARY_KEY="api2lake-canary-key-$RANDOM$RANDOM"
CANARY_TOKEN="api2lake-canary-token-$RANDOM$RANDOM"
info "running api2lake stream --runner dataflow --sink gcp --project some-project --bucket some-bucket --config airquality --entity readings --subscription readings-api2lake"
START=$(date +%s)
env "${OFFLINE_ENV[@]}" \
  API2LAKE_DEMO_URL="http://127.0.0.1:9" API2LAKE_DEMO_API_KEY="$CANARY_KEY" API2LAKE_DEMO_TOKEN="$CANARY_TOKEN" \
  BEAM_SERVICE_OVERRIDES="{\"python:apache_beam.runners.dataflow.dataflow_job_service\":\"localhost:$JS_PORT\"}" \
  API2LAKE_DATAFLOW_OPTIONS="{\"templateLocation\":\"$WORK/ts/job.json\",\"stagingLocation\":\"$WORK/ts/staging\",\"tempLocation\":\"$WORK/ts/tmp\",\"noAuth\":true}" \
  API2LAKE_STORAGE_ENDPOINT="http://127.0.0.1:$GP" STORAGE_EMULATOR_HOST="http://127.0.0.1:$GP/storage/v1" \
  timeout 600 node bin/api2lake.js stream --runner dataflow --sink gcp --project some-project --bucket some-bucket \
    --config airquality --entity readings --subscription readings-api2lake > "$WORK/run.log" 2>&1
RC=$?
info "api2lake exited $RC after $(( $(date +%s) - START )) s"
grep -E "^stream |^error: |^api2lake: " "$WORK/run.log" | sed 's/^/INFO   | /'
[ "$RC" = 0 ] && pass "stream-command-exit-0: the CLI reports the template as written" || fail "stream-command-exit-0: exit $RC (see $WORK/run.log, --keep)"
[ -s "$WORK/ts/job.json" ] && pass "template-written: $WORK/ts/job.json ($(wc -c < "$WORK/ts/job.json") bytes)" \
  || { fail "template-written: no job description"; tail -30 "$WORK/run.log"; exit 1; }
if grep -q "127.0.0.1:9\b" "$WORK/run.log" "$WORK/job-service.log"; then fail "offline: something tried a non-local address"; else
  pass "offline: no request reached the dead proxy/metadata address; noAuth=true, local staging"; fi

# 5. What was submitted: compared with the Python reference, then the batch check's artifact checks.
"$VENV/bin/python" -W ignore "$HERE/inspect_streaming.py" "$WORK/ts/job.json" "$WORK/py/job.json" "$SUBSCRIPTION" \
  | sed "s/$CANARY_KEY/<canary api key>/g; s/$CANARY_TOKEN/<canary token>/g"
[ "${PIPESTATUS[0]}" = 0 ] || FAILS=$((FAILS + 1))
"$VENV/bin/python" -W ignore "$HERE/inspect_submission.py" "$WORK/ts/job.json" "$ROOT/node_modules/apache-beam" "$CANARY_KEY" "$CANARY_TOKEN" \
  | sed "s/$CANARY_KEY/<canary api key>/g; s/$CANARY_TOKEN/<canary token>/g"
[ "${PIPESTATUS[0]}" = 0 ] || FAILS=$((FAILS + 1))

echo
if [ "$FAILS" = 0 ]; then echo "RESULT PASS"; else echo "RESULT FAIL ($FAILS failing check group(s))"; fi
exit $([ "$FAILS" = 0 ] && echo 0 || echo 1)
