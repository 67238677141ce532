#!/bin/sh
# Installs Debian's chromium for the report tests (test/report/), which render the HTML report
# headless and screenshot it. Does nothing when /usr/bin/chromium exists. Needs root (apt-get).
set -eu
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
test -x /usr/bin/chromium
