#!/usr/bin/env bash
# Installs the four emulators (pinned in versions.env) under ~/.cache/api2lake/emulators,
# building each from the Go module proxy once per version. Prints the cache directory.
# Usage: install.sh [pubsub|bigtable|gcs|bigquery ...]   (no argument: all four)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.env"
cache="${API2LAKE_CACHE:-$HOME/.cache/api2lake}/emulators"
mkdir -p "$cache"
# One installer at a time per cache (parallel test files may all find a binary missing).
exec 9>"$cache/.install.lock"
flock 9

build() { # name version module-or-dir [package inside that dir's module]
  local name="$1" version="$2" target="$3" pkg="${4:-.}" dir="$cache/$1-$2"
  if [ -x "$dir/bin/$name" ]; then return 0; fi
  echo "building $name $version (first run only)" >&2
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
  if [ -d "$target" ]; then
    (cd "$target" && go build -o "$dir.tmp/bin/$name" "$pkg") >&2
  else
    GOBIN="$dir.tmp/bin" go install "$target@$version" >&2
    [ -x "$dir.tmp/bin/$name" ] || mv "$dir.tmp/bin/"* "$dir.tmp/bin/$name"
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

wanted=" ${*:-pubsub bigtable gcs bigquery} "
want() { [[ "$wanted" == *" $1 "* ]]; }

if want pubsub; then build pstest-server "$PUBSUB_PSTEST_VERSION" "$here/pstest-server" & fi
if want bigtable; then build emulator "$BIGTABLE_EMULATOR_VERSION" cloud.google.com/go/bigtable/cmd/emulator & fi
if want gcs; then build fake-gcs-server "$FAKE_GCS_SERVER_VERSION" github.com/fsouza/fake-gcs-server & fi
# The proxy refuses the version list `go install ...@v0.8.1` asks for, so the emulator is built
# from our own module (bigquery-emulator/go.mod pins it; go.sum verifies every dependency).
# Keep BIGQUERY_EMULATOR_VERSION and that go.mod in step.
if want bigquery; then
  grep -q "github.com/goccy/bigquery-emulator $BIGQUERY_EMULATOR_VERSION" "$here/bigquery-emulator/go.mod" ||
    { echo "bigquery-emulator/go.mod does not pin $BIGQUERY_EMULATOR_VERSION" >&2; exit 1; }
  build bigquery-emulator "$BIGQUERY_EMULATOR_VERSION" "$here/bigquery-emulator" github.com/goccy/bigquery-emulator/cmd/bigquery-emulator &
fi
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
[ "$fail" = 0 ] || { echo "emulator install failed" >&2; exit 1; }
echo "$cache"
