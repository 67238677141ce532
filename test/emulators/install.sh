#!/usr/bin/env bash
# Installs the four emulators (pinned in versions.env) under ~/.cache/api2lake/emulators,
# building each from the Go module proxy once per version. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.env"
cache="${API2LAKE_CACHE:-$HOME/.cache/api2lake}/emulators"
mkdir -p "$cache"

build() { # name version module-or-dir
  local name="$1" version="$2" target="$3" dir="$cache/$1-$2"
  if [ -x "$dir/bin/$name" ]; then return 0; fi
  echo "building $name $version (first run only)" >&2
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
  if [ -d "$target" ]; then
    (cd "$target" && go build -o "$dir.tmp/bin/$name" .) >&2
  else
    GOBIN="$dir.tmp/bin" go install "$target@$version" >&2
    [ -x "$dir.tmp/bin/$name" ] || mv "$dir.tmp/bin/"* "$dir.tmp/bin/$name"
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build pstest-server "$PUBSUB_PSTEST_VERSION" "$here/pstest-server" &
build emulator "$BIGTABLE_EMULATOR_VERSION" cloud.google.com/go/bigtable/cmd/emulator &
build fake-gcs-server "$FAKE_GCS_SERVER_VERSION" github.com/fsouza/fake-gcs-server &
build bigquery-emulator "$BIGQUERY_EMULATOR_VERSION" github.com/goccy/bigquery-emulator/cmd/bigquery-emulator &
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
[ "$fail" = 0 ] || { echo "emulator install failed" >&2; exit 1; }
echo "$cache"
