"""Beam's local portable job service as `--runner portable` starts it (pipeline/portable-runner.ts).

usage: <venv>/bin/python scripts/portable-job-service.py WORKERS
Runs apache_beam.runners.portability.local_job_service_main on a free port (it logs
"Listening for beam jobs on port N.") with three changes, all for apache-beam 2.49.0:
- it cannot outlive api2lake: stdin is a pipe from api2lake, and EOF on it - however api2lake
  ended, SIGKILL included - makes it SIGTERM itself (its own handler exits cleanly and removes
  its staging dir);
- the FnApiRunner uses WORKERS workers: 2.49 reads `direct_num_workers` only for Python pipelines
  (`FnApiRunner.run_pipeline`), never for a portable job (`run_via_runner_api`), so every stage
  would be one bundle on one worker. With more, its ParallelBundleManager cuts each stage's input
  into WORKERS bundles run at once, as a distributed runner would;
- ParallelBundleManager.process_bundle partitions every input buffer, but a stage input that
  received nothing is None there (the single-worker BundleManager treats None as empty,
  `byte_streams or []`): such inputs are passed as empty buffers.
"""
import os
import runpy
import signal
import sys
import threading

from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.runners.portability.fn_api_runner import fn_runner


def stop_when_parent_ends():
  sys.stdin.buffer.read()
  os.kill(os.getpid(), signal.SIGTERM)


WORKERS = int(sys.argv[1])
original_init = fn_runner.FnApiRunner.__init__
original_process_bundle = fn_runner.ParallelBundleManager.process_bundle


def init_with_workers(self, *args, **kwargs):
  original_init(self, *args, **kwargs)
  self._num_workers = WORKERS


def process_bundle_empty_inputs(self, inputs, *args, **kwargs):
  inputs = {
      name: (buffer if buffer is not None else execution.ListBuffer(None))
      for name, buffer in inputs.items()
  }
  return original_process_bundle(self, inputs, *args, **kwargs)


fn_runner.FnApiRunner.__init__ = init_with_workers
fn_runner.ParallelBundleManager.process_bundle = process_bundle_empty_inputs
threading.Thread(target=stop_when_parent_ends, daemon=True).start()
sys.argv = ['local_job_service_main', '--port', '0']
runpy.run_module(
    'apache_beam.runners.portability.local_job_service_main',
    run_name='__main__',
    alter_sys=True)
