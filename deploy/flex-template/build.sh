#!/usr/bin/env bash
# Builds the Flex Template image and (unless --context-only) the template spec.
#   deploy/flex-template/build.sh IMAGE TEMPLATE_GCS_PATH [--local] [--context-only DIR]
# IMAGE: e.g. europe-west1-docker.pkg.dev/my-project/api2lake/launcher:2024-06-01
# TEMPLATE_GCS_PATH: e.g. gs://my-lake/templates/api2lake.json (terraform output template_spec_gcs_path)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
image="${1:?usage: build.sh IMAGE TEMPLATE_GCS_PATH [--local] [--context-only DIR]}"
spec="${2:?usage: build.sh IMAGE TEMPLATE_GCS_PATH [--local] [--context-only DIR]}"
shift 2
local_build=0
context_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --local) local_build=1 ;;
    --context-only) context_only="${2:?--context-only needs a directory}"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

ctx="${context_only:-$(mktemp -d)}"
mkdir -p "$ctx"
cd "$root"
node scripts/build.js                              # dist/ must be fresh: it ships in the tarball
node bin/api2lake.js template metadata             # deploy/metadata.json from the declarations
tarball="$(npm pack --silent --pack-destination "$ctx" | tail -n 1)"
mv "$ctx/$tarball" "$ctx/api2lake.tgz"
cp package-lock.json deploy/metadata.json deploy/flex-template/launcher.py deploy/flex-template/Dockerfile "$ctx/"
echo "build context: $ctx"
[ -n "$context_only" ] && exit 0

if [ "$local_build" = 1 ]; then
  docker build -t "$image" "$ctx" && docker push "$image"
else
  gcloud builds submit "$ctx" --tag "$image"
fi
gcloud dataflow flex-template build "$spec" \
  --image "$image" \
  --sdk-language PYTHON \
  --metadata-file "$root/deploy/metadata.json"
