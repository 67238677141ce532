"""Runs a command and prints one JSON line on stderr's last line: wall seconds and peak RSS.

Peak RSS is getrusage(RUSAGE_CHILDREN).ru_maxrss (KiB on Linux, the same number as
/usr/bin/time -v "Maximum resident set size"): the largest RSS of the command or of any
descendant it waited for. The command's own stdout and stderr pass through.

    python measure_child.py <command> [args...]
"""
import json
import resource
import subprocess
import sys
import time

start = time.monotonic()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.monotonic() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(json.dumps({"measured": True, "code": code, "wall_s": wall, "peak_rss_kib": peak_kib}) + "\n")
sys.exit(code)
