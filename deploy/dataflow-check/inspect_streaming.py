"""Compares the streaming job api2lake submitted with the one Python's own ReadFromPubSub gives
(both written offline by Beam 2.49.0's DataflowRunner), one PASS/FAIL line per check. Run with
the Beam venv's python.

usage: inspect_streaming.py TS_JOB_JSON PY_JOB_JSON SUBSCRIPTION
"""
import json
import re
import sys

from apache_beam.portability.api import beam_runner_api_pb2 as pb

PUBSUB_READ = "beam:transform:pubsub_read:v1"
GBK = "beam:transform:group_by_key:v1"
# The cross-language read would need a Java expansion service (not reachable here); it must not appear.
XLANG_READ = "beam:transform:org.apache.beam:pubsub_read:v1"

failures = 0


def report(ok, name, detail=""):
  global failures
  if not ok:
    failures += 1
  print(("PASS " if ok else "FAIL ") + name + (": " + detail if detail else ""))


def info(text):
  print("INFO " + text)


def load(job_json):
  job = json.load(open(job_json))
  options = job["environment"]["sdkPipelineOptions"]["options"]
  pipeline = pb.Pipeline.FromString(open(options["pipelineUrl"], "rb").read())
  return job, options, pipeline


def reads(pipeline):
  return [(tid, t) for tid, t in pipeline.components.transforms.items() if t.spec.urn == PUBSUB_READ]


def output_of(pipeline, transform):
  return pipeline.components.pcollections[list(transform.outputs.values())[0]]


def strategy_without_ids(pipeline, ws_id):
  ws = pb.WindowingStrategy()
  ws.CopyFrom(pipeline.components.windowing_strategies[ws_id])
  coder = pipeline.components.coders[ws.window_coder_id].spec.urn
  # Ids differ between SDKs; the TypeScript SDK also sets the assigns_to_one_window hint, true
  # for fixed windows, which Python leaves unset. The window coder is compared by URN.
  ws.ClearField("window_coder_id")
  ws.ClearField("environment_id")
  ws.ClearField("assigns_to_one_window")
  return ws, coder


def main(ts_job_json, py_job_json, subscription):
  ts_job, ts_opts, ts = load(ts_job_json)
  py_job, py_opts, py = load(py_job_json)
  info("api2lake job: name %s, type %s, version %s" % (ts_job.get("name"), ts_job.get("type"), ts_job["environment"].get("version")))
  info("python reference: type %s, version %s" % (py_job.get("type"), py_job["environment"].get("version")))

  # 1. A streaming job, flagged as Python's is.
  report(ts_job.get("type") == "JOB_TYPE_STREAMING" == py_job.get("type"), "streaming-job-type", str(ts_job.get("type")))
  report(ts_job["environment"].get("version", {}).get("job_type") == "FNAPI_STREAMING", "fnapi-streaming-version", str(ts_job["environment"].get("version")))
  report(ts_opts.get("streaming") is True, "streaming-option", "streaming=%r" % ts_opts.get("streaming"))
  needed = [e for e in py_opts.get("experiments", []) if e in ("enable_streaming_engine", "enable_windmill_service")]
  have = ts_opts.get("experiments", [])
  report(len(needed) == 2 and all(e in have for e in needed) and ts_opts.get("enable_streaming_engine") is True,
         "streaming-engine", "python adds %s; api2lake has %s, enable_streaming_engine=%r" % (needed, have, ts_opts.get("enable_streaming_engine")))

  # 2. The Pub/Sub read: the transform Dataflow replaces by its native source, as Python writes it.
  ts_reads, py_reads = reads(ts), reads(py)
  report(len(ts_reads) == 1 and len(py_reads) == 1, "one-native-pubsub-read",
         "api2lake %s, python %s" % ([t.unique_name for _, t in ts_reads], [t.unique_name for _, t in py_reads]))
  if len(ts_reads) != 1 or len(py_reads) != 1:
    return
  ts_read, py_read = ts_reads[0][1], py_reads[0][1]
  ts_payload = pb.PubSubReadPayload.FromString(ts_read.spec.payload)
  py_payload = pb.PubSubReadPayload.FromString(py_read.spec.payload)
  info("api2lake payload: %s" % str(ts_payload).replace("\n", "; "))
  report(ts_payload == py_payload, "pubsub-read-payload-equals-python", "python: %s" % str(py_payload).replace("\n", "; "))
  report(ts_payload.subscription == subscription and ts_payload.with_attributes and not ts_payload.topic
         and not ts_payload.timestamp_attribute and not ts_payload.id_attribute,
         "pubsub-read-payload", "subscription %s, with_attributes, no timestamp/id attribute" % ts_payload.subscription)
  report(not ts_read.inputs and not py_read.inputs and not ts_read.subtransforms, "pubsub-read-is-a-root-primitive")
  ts_coder = ts.components.coders[output_of(ts, ts_read).coder_id].spec.urn
  py_coder = py.components.coders[output_of(py, py_read).coder_id].spec.urn
  report(ts_coder == py_coder == "beam:coder:bytes:v1", "pubsub-read-output-coder", "%s (python %s)" % (ts_coder, py_coder))
  report(bool(ts_read.environment_id) == bool(py_read.environment_id), "pubsub-read-environment",
         "api2lake %r, python %r" % (ts_read.environment_id, py_read.environment_id))
  report(output_of(ts, ts_read).is_bounded == pb.IsBounded.UNBOUNDED, "pubsub-read-unbounded")
  xlang = [t.unique_name for t in ts.components.transforms.values() if t.spec.urn == XLANG_READ or "expansion" in t.spec.urn]
  report(not xlang, "no-cross-language-read", ", ".join(xlang))

  # 3. Windowing: every grouping runs in the one-day windows with the trigger Python gives (a
  #    grouping left in the global window with the default trigger would never fire in streaming).
  py_gbk = [t for t in py.components.transforms.values() if t.spec.urn == GBK]
  py_ws = strategy_without_ids(py, py.components.pcollections[list(py_gbk[0].inputs.values())[0]].windowing_strategy_id)
  ts_gbk = [t for t in ts.components.transforms.values() if t.spec.urn == GBK]
  wrong = []
  for t in ts_gbk:
    pc = ts.components.pcollections[list(t.inputs.values())[0]]
    if strategy_without_ids(ts, pc.windowing_strategy_id) != py_ws:
      wrong.append(t.unique_name)
  info("python windowing (window coder %s): %s" % (py_ws[1], " ".join(str(py_ws[0]).split())))
  report(len(ts_gbk) > 0 and not wrong, "daily-windowing-on-every-grouping",
         "%d groupings, all FixedWindows(86400 s), early/late panes every 15 min, 2 days lateness, DISCARDING%s"
         % (len(ts_gbk), ("; not: " + ", ".join(wrong)) if wrong else ""))
  unbounded = [t.unique_name for t in ts_gbk if ts.components.pcollections[list(t.inputs.values())[0]].is_bounded != pb.IsBounded.UNBOUNDED]
  report(not unbounded, "groupings-unbounded", ", ".join(unbounded))

  # The run's commit stage: one grouping of every sink result and tally, per window pane
  # (pipeline/commit-stage.ts), among the windowed groupings checked just above.
  commit = [t.unique_name for t in ts_gbk if "GatherRunResults" in t.unique_name.split("/")]
  committers = [t.unique_name for t in ts.components.transforms.values() if t.unique_name.endswith("CommitRun")]
  report(len(commit) == 1 and len(committers) == 1, "commit-stage-per-window-pane",
         "%s -> %s" % (", ".join(commit) or "no GatherRunResults grouping", ", ".join(committers) or "no CommitRun step"))

  # 4. The per-window sink results the in-graph commit consumes: every sink writes per pane.
  names = [t.unique_name for t in ts.components.transforms.values()]
  # (Lake sink names hold a slash themselves: WriteLake(raw/readings).)
  sink_name = re.compile(r"(^|/)(WriteLake\([^()]*\)|WriteWarehouse\(lake\.[^()]*\)|WriteErrors\([^()]*\)|WriteServing\([^()]*\))$")
  sinks = sorted(n for n in names if sink_name.search(n))
  per_bundle = [n for n in sinks if not any(m.startswith(n + "/") and m.endswith("/GatherPane") for m in names)]
  info("sinks: %s" % ", ".join(sinks))
  report(len(sinks) > 0 and not per_bundle, "sinks-write-per-window-pane", "%d sinks gather each pane first%s"
         % (len(sinks), ("; per bundle: " + ", ".join(per_bundle)) if per_bundle else ""))


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2], sys.argv[3])
  sys.exit(1 if failures else 0)
