#!/usr/bin/env python3
"""Flex Template launch script: template parameters -> `api2lake run` on Dataflow.

Dataflow's Python launcher (FLEX_TEMPLATE_PYTHON_PY_FILE) runs this file with every template
parameter as `--name=value`, plus the pipeline options the launch itself sets (`--runner`,
`--job_name`, `--region`, `--temp_location`, `--template_location`, ...). The template
parameters are checked against deploy/metadata.json - the metadata derived from
pipeline/options.ts, so a parameter and its api2lake flag have the same name - and turned into
`node /template/bin/api2lake.js run --runner dataflow --sink gcp --<name> <value> ...`, which
replaces this process. Standard library only; nothing secret-looking is ever printed.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
METADATA = os.environ.get("API2LAKE_METADATA", os.path.join(HERE, "..", "metadata.json"))
PROJECT_DIR = os.environ.get("API2LAKE_HOME", "/template")
NODE = os.environ.get("API2LAKE_NODE", "node")

# Pipeline options that the Flex Template launcher (not the user's template parameters) adds.
# They are not api2lake flags: they travel to api2lake as environment variables (see launch_env).
LAUNCH_OPTIONS = frozenset("""
runner job_name region project temp_location staging_location template_location
service_account_email sdk_container_image labels experiments additional_experiments
dataflow_service_options num_workers max_num_workers autoscaling_algorithm machine_type
worker_machine_type launcher_machine_type disk_size_gb worker_disk_type network subnetwork
use_public_ips no_use_public_ips worker_region worker_zone zone dataflow_kms_key
enable_streaming_engine flexrs_goal update transform_name_mapping save_main_session
setup_file requirements_file extra_packages sdk_location streaming
""".split())

# The template always runs on Dataflow and lands in Google Cloud.
FIXED = (("runner", "dataflow"), ("sink", "gcp"))

SECRET_NAME = re.compile(r"(secret|token|passw(or)?d|credential|api_?key|private|auth)", re.I)
SECRET_VALUE = re.compile(r"(^bearer\s|://[^/\s:@]+:[^/\s@]+@|^ya29\.|-----BEGIN|^[A-Za-z0-9+/_=-]{32,}$)", re.I)


class LaunchError(ValueError):
    """Invalid template parameters; the message lists every problem, one per line."""


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def redact(name, value):
    """The value as it may appear in a log line."""
    if SECRET_NAME.search(name) or SECRET_VALUE.search(value):
        return "***"
    return value


def parse_args(argv):
    """`--name=value` (as Dataflow passes them), `--name value`, or a bare `--flag` (= "true")."""
    params = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--") or arg == "--":
            raise LaunchError(f"unexpected argument {redact('', arg)!r}: parameters come as --name=value")
        if "=" in arg:
            name, value = arg[2:].split("=", 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            name, value = arg[2:], argv[i + 1]
            i += 1
        else:
            name, value = arg[2:], "true"
        params[name] = value
        i += 1
    return params


def split_launch_options(params, metadata):
    """(template parameters, launch options): a declared parameter always counts as a parameter."""
    declared = {p["name"] for p in metadata["parameters"]}
    template, launch = {}, {}
    for name, value in params.items():
        if name not in declared and snake(name) in LAUNCH_OPTIONS:
            launch[snake(name)] = value
        else:
            template[name] = value
    return template, launch


def to_cli_args(params, metadata):
    """The `api2lake run` argument list for these template parameters, or LaunchError.

    Unknown names, missing required parameters and regex violations are all reported at once.
    An empty optional value means "not set" (api2lake then applies its own default).
    """
    declared = {p["name"]: p for p in metadata["parameters"]}
    fixed = dict(FIXED)
    problems = []
    for name in params:
        if name not in declared:
            problems.append(f"unknown parameter {name!r} (declared: {', '.join(sorted(declared))})")
    for name, spec in declared.items():
        value = params.get(name, "")
        if value == "":
            if not spec.get("isOptional", False):
                problems.append(f"missing required parameter {name!r}: {spec.get('helpText', '')}".rstrip(": "))
            continue
        for regex in spec.get("regexes", []):
            if not re.search(regex, value):
                problems.append(f"parameter {name!r}: {redact(name, value)!r} does not match {regex}")
        if name in fixed and value != fixed[name]:
            problems.append(f"parameter {name!r}: this template always uses {fixed[name]!r}, got {redact(name, value)!r}")
    if problems:
        raise LaunchError("\n".join(problems))
    args = ["run"]
    for name, value in FIXED:
        args += [f"--{name}", value]
    for name in declared:  # declaration order: stable command lines
        value = params.get(name, "")
        if value != "" and name not in fixed:
            args += [f"--{name}", value]
    return args


def launch_env(launch, environ):
    """Environment for api2lake: the launch's region and its Dataflow options (camelCase JSON)."""
    env = dict(environ)
    if launch.get("region"):
        env["API2LAKE_REGION"] = launch["region"]
    camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in launch.items() if k != "runner"}
    env["API2LAKE_DATAFLOW_OPTIONS"] = json.dumps(camel, sort_keys=True)
    return env


def load_metadata(path=None):
    with open(path or METADATA, encoding="utf-8") as f:
        return json.load(f)


def exec_in_project(cmd, env):
    os.chdir(PROJECT_DIR)  # the Dataflow runner packs the project from the working directory
    os.execvpe(cmd[0], cmd, env)


def main(argv=None, environ=None, run=exec_in_project):
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    try:
        metadata = load_metadata()
        template, launch = split_launch_options(parse_args(argv), metadata)
        args = to_cli_args(template, metadata)
    except (LaunchError, OSError, ValueError) as error:
        print(f"api2lake launcher: invalid launch:\n{error}", file=sys.stderr)
        return 2
    shown = [redact(args[i - 1][2:], a) if i > 0 and args[i - 1].startswith("--") else a for i, a in enumerate(args)]
    print(f"api2lake launcher: node bin/api2lake.js {' '.join(shown)} (launch options: {', '.join(sorted(launch)) or 'none'})", flush=True)
    cmd = [NODE, os.path.join(PROJECT_DIR, "bin", "api2lake.js")] + args
    run(cmd, launch_env(launch, environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
