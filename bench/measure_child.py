"""Runs a command and prints one JSON line as stderr's last line: wall s, CPU s and peak RSS.

Peak RSS is getrusage(RUSAGE_CHILDREN).ru_maxrss (KiB on Linux, the same number as
/usr/bin/time -v "Maximum resident set size"): the largest RSS of the command or of any
descendant it waited for. CPU is user + system seconds of the command and its waited-for
descendants: on a machine shared with other jobs it is the steadier number. The command's own
stdout and stderr pass through.

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
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
summary = {"code": code, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_kib": usage.ru_maxrss}
sys.stderr.write(json.dumps(summary) + "\n")
sys.exit(code)
