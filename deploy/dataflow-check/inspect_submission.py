"""Reads a Dataflow job description written offline (template_location) and the pipeline proto it
points to, and prints one PASS/FAIL line per check. Run with the Beam venv's python.

usage: inspect_submission.py [--label NAME] [--job-type JOB_TYPE_BATCH|JOB_TYPE_STREAMING]
                             [--steps NAME,NAME,...] JOB_JSON SDK_DIR SECRET [SECRET ...]
  --label:    prefix of every check name (the submission's name, e.g. batch or streaming).
  --job-type: the job description's expected `type`; also whether the options say streaming.
  --steps:    transform unique names the staged pipeline must hold (e.g. ReadRest_jobs/FetchPages).
  SDK_DIR:    the locally installed apache-beam (node_modules/apache-beam), for byte comparisons.
"""
import argparse
import io
import json
import os
import sys
import tarfile

from apache_beam.portability.api import beam_runner_api_pb2 as pb

NPM_ROLE = "beam:artifact:type:npm:v1"
NPM_DEP_ROLE = "beam:artifact:type:npm_dep:v1"
FILE_TYPE = "beam:artifact:type:file:v1"
TS_IMAGE_PREFIX = "docker.io/apache/beam_typescript_sdk:"

failures = 0


label = ""


def report(ok, name, detail=""):
  global failures
  if not ok:
    failures += 1
  print(("PASS " if ok else "FAIL ") + label + name + (": " + detail if detail else ""))


def info(text):
  print("INFO " + text)


def tar_members(path):
  with tarfile.open(path, "r:gz") as tar:
    return {m.name: m for m in tar.getmembers() if m.isfile()}, path


def tar_read(path, name):
  with tarfile.open(path, "r:gz") as tar:
    return tar.extractfile(name).read()


def main(job_json, sdk_dir, secrets, job_type=None, steps=()):
  job = json.load(open(job_json))
  env = job["environment"]
  options = env["sdkPipelineOptions"]["options"]
  info("job name %s, type %s, environment version %s" % (job.get("name"), job.get("type"), env.get("version")))
  if job_type:
    streaming = bool(options.get("streaming"))
    report(job.get("type") == job_type and streaming == (job_type == "JOB_TYPE_STREAMING"), "job-type",
           "type %s (expected %s), options.streaming %s" % (job.get("type"), job_type, options.get("streaming")))

  # 1. The worker pool runs the TypeScript SDK container.
  pools = env.get("workerPools", [])
  images = [i.get("containerImage") for p in pools for i in p.get("sdkHarnessContainerImages", [])]
  info("sdkHarnessContainerImages: %s" % images)
  report(len(images) == 1 and images[0].startswith(TS_IMAGE_PREFIX), "typescript-sdk-container", ", ".join(map(str, images)))
  report("use_portable_job_submission" in options.get("experiments", []) and "use_runner_v2" in options.get("experiments", []),
         "runner-v2-portable-submission", "experiments=%s" % options.get("experiments"))

  # 2. The staged pipeline proto: its environment's npm artifacts.
  pipeline_url = options.get("pipelineUrl")
  report(bool(pipeline_url) and os.path.exists(pipeline_url), "pipeline-proto-staged", str(pipeline_url))
  if not pipeline_url or not os.path.exists(pipeline_url):
    return
  pipeline = pb.Pipeline.FromString(open(pipeline_url, "rb").read())
  if steps:
    # A transform's unique name is the path of applied names ("ReadRest_jobs/FetchPages").
    names = set(t.unique_name for t in pipeline.components.transforms.values())
    missing = [s for s in steps if s not in names]
    report(not missing, "steps", ("missing %s" % ", ".join(missing)) if missing else
           "all %d expected of %d transforms: %s" % (len(steps), len(pipeline.components.transforms), ", ".join(steps)))
  js_envs = {k: e for k, e in pipeline.components.environments.items() if e.urn == "beam:env:docker:v1" and
             pb.DockerPayload.FromString(e.payload).container_image.startswith(TS_IMAGE_PREFIX)}
  report(len(js_envs) == 1, "one-typescript-environment", ", ".join(js_envs))
  artifacts = []
  for env_id, e in js_envs.items():
    for dep in e.dependencies:
      path = pb.ArtifactFilePayload.FromString(dep.type_payload).path if dep.type_urn == FILE_TYPE else None
      name = dep.role_payload.decode("utf-8", "replace")
      artifacts.append((dep.role_urn, name, path))
      info("artifact %s role=%s name=%r -> %s" % (env_id, dep.role_urn, name, path))
  packaged = {}
  for role, name, path in artifacts:
    if path and os.path.exists(path):
      pkg = json.loads(tar_read(path, "package/package.json"))
      packaged[(role, name)] = (pkg["name"], pkg["version"], path)
      info("  %s is npm package %s@%s (%d bytes)" % (os.path.basename(path), pkg["name"], pkg["version"], os.path.getsize(path)))
  project = [v for (role, name), v in packaged.items() if role == NPM_ROLE and name == ""]
  beam = [v for (role, name), v in packaged.items() if role == NPM_ROLE and name == "apache-beam"]
  report(len(project) == 1 and project[0][0] == "api2lake", "project-tarball-staged", str(project[0][:2]) if project else "missing")
  report(len(beam) == 1 and beam[0][0] == "apache-beam" and beam[0][1] == "2.49.0", "apache-beam-tarball-staged", str(beam[0][:2]) if beam else "missing")
  report(all(p and os.path.exists(p) for _, _, p in artifacts), "all-artifacts-exist-in-staging", "%d artifacts" % len(artifacts))

  # 3. The staged apache-beam is the patched, installed one.
  if beam:
    beam_tgz = beam[0][2]
    members, _ = tar_members(beam_tgz)
    ops = "package/dist/src/apache_beam/worker/operators.js"
    text = tar_read(beam_tgz, ops).decode("utf-8") if ops in members else ""
    report("api2lake patch" in text, "staged-sdk-is-patched", "%s contains 'api2lake patch' %d time(s)" % (ops[len("package/"):], text.count("api2lake patch")))
    # Every file the patch touches is byte-identical to the installed copy.
    patched = []
    for root, _, files in os.walk(os.path.join(sdk_dir, "dist")):
      for f in files:
        if f.endswith(".js") or f.endswith(".d.ts"):
          full = os.path.join(root, f)
          data = open(full, "rb").read()
          if b"api2lake patch" in data:
            patched.append((os.path.relpath(full, sdk_dir), data))
    same = [rel for rel, data in patched if ("package/" + rel) in members and tar_read(beam_tgz, "package/" + rel) == data]
    report(len(patched) > 0 and len(same) == len(patched), "staged-sdk-matches-installed",
           "%d/%d patched files byte-identical (%s)" % (len(same), len(patched), ", ".join(sorted(r for r, _ in patched))))

  # 4. Every api2lake module registered for serialization is inside the staged project.
  registered = options.get("registered_node_modules", [])
  if project:
    members, _ = tar_members(project[0][2])
    ours = [m for m in registered if m.startswith("api2lake/")]
    missing = [m for m in ours if "package/" + m[len("api2lake/"):] + ".js" not in members]
    report(len(ours) > 0 and not missing, "registered-modules-in-project-tarball",
           "%d api2lake modules%s" % (len(ours), ("; missing " + ", ".join(missing)) if missing else ""))

  # 5. Secrets.
  options_text = json.dumps(env["sdkPipelineOptions"])
  found = [s for s in secrets if s in options_text]
  report(not found, "no-secret-in-pipeline-options", "found %s" % found if found else "none of %d secret values" % len(secrets))
  found = [s for s in secrets if s in open(job_json).read()]
  report(not found, "no-secret-in-job-description", "found %s" % found if found else "")
  where = []
  for tid, t in pipeline.components.transforms.items():
    blob = t.spec.payload
    for s in secrets:
      if s.encode() in blob:
        where.append("%s in %s (%s)" % (s, t.unique_name, t.spec.urn))
  report(not where, "no-secret-in-pipeline-proto",
         ("known gap - the REST source config (resolved auth) is serialized into DoFn payloads, staged as %s: %s" % (pipeline_url, "; ".join(where))) if where else "")
  for role, name, path in artifacts:
    if path and os.path.exists(path):
      raw = tarfile.open(path, "r:gz")
      hits = set()
      for m in raw.getmembers():
        if m.isfile():
          data = raw.extractfile(m).read()
          hits.update(m.name for s in secrets if s.encode() in data)
      report(not hits, "no-secret-in-artifact %s" % os.path.basename(path)[:12], ", ".join(sorted(hits)))


if __name__ == "__main__":
  parser = argparse.ArgumentParser(usage=__doc__)
  parser.add_argument("--label", default="")
  parser.add_argument("--job-type", default=None)
  parser.add_argument("--steps", default="")
  parser.add_argument("job_json")
  parser.add_argument("sdk_dir")
  parser.add_argument("secrets", nargs="+")
  args = parser.parse_args()
  label = args.label + ": " if args.label else ""
  main(args.job_json, args.sdk_dir, args.secrets, args.job_type, [s for s in args.steps.split(",") if s])
  sys.exit(1 if failures else 0)
