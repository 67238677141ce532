#!/usr/bin/env bash
# Installs the Python side of Beam that `--runner portable` (the local portable job service) and
# `npm run check:dataflow` (the Dataflow job service) start: a venv with apache-beam[gcp]==2.49.0,
# the release matching our TypeScript SDK. Created once (about 300 MB, a few minutes), then reused.
# Prints the venv directory on stdout; progress goes to stderr.
#
# usage: scripts/install-python-beam.sh
# env:   API2LAKE_BEAM_VENV   venv directory (default ~/.cache/api2lake/python-beam-2.49.0)
#        API2LAKE_CHECK_PYTHON python >= 3.8 that creates the venv (default python3.11, else python3)
set -euo pipefail
VERSION=2.49.0
VENV="${API2LAKE_BEAM_VENV:-$HOME/.cache/api2lake/python-beam-$VERSION}"
# Written last: a venv without it is an interrupted install and is rebuilt (pipeline/portable-runner.ts checks it too).
MARKER="$VENV/.api2lake-ready"
mkdir -p "$(dirname "$VENV")"
# One installer at a time (parallel tests or a check may all find the venv missing).
exec 9>"$VENV.lock"
flock 9

ready() {
  "$VENV/bin/python" -W ignore -c '
import sys, apache_beam
import apache_beam.runners.portability.local_job_service_main
import apache_beam.runners.dataflow.dataflow_job_service
sys.exit(apache_beam.__version__ != sys.argv[1])' "$VERSION" 2>/dev/null
}

if [ -f "$MARKER" ] && ready; then echo "$VENV"; exit 0; fi
# A complete venv made before this script wrote markers (or by hand) is adopted as is.
if [ -x "$VENV/bin/python" ] && ready && "$VENV/bin/pip" check >/dev/null 2>&1; then
  touch "$MARKER"; echo "$VENV"; exit 0
fi
PY="${API2LAKE_CHECK_PYTHON:-$(command -v python3.11 || command -v python3)}"
echo "install-python-beam: creating $VENV with $PY and installing apache-beam[gcp]==$VERSION (first time only)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip >&2
"$VENV/bin/pip" install -q "apache-beam[gcp]==$VERSION" >&2
ready || { echo "install-python-beam: apache-beam $VERSION does not import from $VENV" >&2; exit 1; }
touch "$MARKER"
echo "$VENV"
