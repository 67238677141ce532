"""Tests of the Flex Template launch script (run by test/deploy/launcher.test.ts through pytest)."""
import json
import os

import pytest

import launcher

METADATA = launcher.load_metadata(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metadata.json"))


def cli(**params):
    return launcher.to_cli_args(params, METADATA)


def test_parameters_map_to_flags_of_the_same_name():
    args = cli(config="presets/commerce.yaml", entities="customers,sales", project="my-project", bucket="my-lake", datasetPrefix="dev_", requestConcurrency="4")
    assert args == ["run", "--runner", "dataflow", "--sink", "gcp", "--config", "presets/commerce.yaml", "--entities", "customers,sales",
                    "--requestConcurrency", "4", "--project", "my-project", "--bucket", "my-lake", "--datasetPrefix", "dev_"]


def test_every_declared_parameter_becomes_its_own_flag():
    values = {"from": "2024-01-01", "to": "10/01/2024", "requestConcurrency": "3", "sink": "gcp", "project": "my-project", "bucket": "my-lake", "datasetPrefix": "p_", "batchSize": "10"}
    params = {p["name"]: values.get(p["name"]) or p.get("defaultValue") or "x" for p in METADATA["parameters"]}
    args = cli(**params)
    flags = [a[2:] for a in args if a.startswith("--")]
    assert sorted(flags) == sorted(set(params) | {"runner"})


def test_empty_optional_values_are_left_to_the_defaults_of_api2lake():
    assert cli(config="commerce", entities="", **{"from": ""}) == ["run", "--runner", "dataflow", "--sink", "gcp", "--config", "commerce"]


def test_missing_required_config_is_refused():
    with pytest.raises(launcher.LaunchError, match="missing required parameter 'config'"):
        cli(project="my-project")
    with pytest.raises(launcher.LaunchError, match="missing required parameter 'config'"):
        cli(config="")


@pytest.mark.parametrize("name,value", [("from", "yesterday"), ("to", "2024-1-10"), ("requestConcurrency", "0"), ("project", "My_Project"), ("bucket", "gs://lake"), ("datasetPrefix", "dev-")])
def test_regex_violations_are_refused(name, value):
    with pytest.raises(launcher.LaunchError, match=f"parameter '{name}'.*does not match"):
        cli(config="commerce", **{name: value})


def test_unknown_parameters_are_refused_with_the_declared_names():
    with pytest.raises(launcher.LaunchError) as error:
        cli(config="commerce", entites="customers")
    assert "unknown parameter 'entites'" in str(error.value)
    assert "entities" in str(error.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(launcher.LaunchError) as error:
        cli(nope="1", requestConcurrency="-1")
    lines = str(error.value).splitlines()
    assert len(lines) == 3, lines
    assert any("nope" in l for l in lines) and any("config" in l for l in lines) and any("requestConcurrency" in l for l in lines)


def test_the_template_always_lands_in_gcp():
    assert cli(config="commerce", sink="gcp").count("--sink") == 1
    with pytest.raises(launcher.LaunchError, match="always uses 'gcp'"):
        cli(config="commerce", sink="local")


def test_arguments_as_dataflow_passes_them():
    assert launcher.parse_args(["--config=a=b.yaml", "--entities", "x", "--no_use_public_ips"]) == {"config": "a=b.yaml", "entities": "x", "no_use_public_ips": "true"}
    with pytest.raises(launcher.LaunchError):
        launcher.parse_args(["config=x"])


def test_launch_options_are_not_parameters_and_travel_as_environment():
    params = launcher.parse_args(["--config=commerce", "--project=my-project", "--runner=DataflowRunner", "--job_name=api2lake-1", "--region=europe-west1",
                                  "--tempLocation=gs://b/tmp", "--template_location=gs://b/staging/template_launches/1/job_object"])
    template, launch = launcher.split_launch_options(params, METADATA)
    assert template == {"config": "commerce", "project": "my-project"}
    assert set(launch) == {"runner", "job_name", "region", "temp_location", "template_location"}
    env = launcher.launch_env(launch, {"PATH": "/bin"})
    assert env["API2LAKE_REGION"] == "europe-west1" and env["PATH"] == "/bin"
    assert json.loads(env["API2LAKE_DATAFLOW_OPTIONS"]) == {"jobName": "api2lake-1", "region": "europe-west1", "tempLocation": "gs://b/tmp",
                                                            "templateLocation": "gs://b/staging/template_launches/1/job_object"}


def test_main_execs_node_on_the_installed_project(capsys):
    calls = []
    code = launcher.main(["--config=presets/commerce.yaml", "--project=my-project", "--bucket=my-lake", "--runner=DataflowRunner", "--region=us-central1"],
                         {"HOME": "/root"}, lambda cmd, env: calls.append((cmd, env)))
    assert code == 0 and len(calls) == 1
    cmd, env = calls[0]
    assert cmd[:2] == [launcher.NODE, os.path.join(launcher.PROJECT_DIR, "bin", "api2lake.js")]
    assert cmd[2:] == ["run", "--runner", "dataflow", "--sink", "gcp", "--config", "presets/commerce.yaml", "--project", "my-project", "--bucket", "my-lake"]
    assert env["API2LAKE_REGION"] == "us-central1"
    assert "--config presets/commerce.yaml" in capsys.readouterr().out


def test_main_refuses_an_invalid_launch_without_running_anything(capsys):
    calls = []
    code = launcher.main(["--entities=ALL", "--requestConcurrency=many"], {}, lambda cmd, env: calls.append(cmd))
    assert code == 2 and calls == []
    err = capsys.readouterr().err
    assert "missing required parameter 'config'" in err and "requestConcurrency" in err


def test_secret_looking_values_never_reach_the_log(tmp_path, monkeypatch, capsys):
    metadata = {"name": "t", "description": "t", "parameters": [
        {"name": "config", "label": "Config", "helpText": "c", "isOptional": False},
        {"name": "apiToken", "label": "Api Token", "helpText": "t", "isOptional": True, "regexes": ["^[a-z]+$"]},
        {"name": "entities", "label": "Entities", "helpText": "e", "isOptional": True}]}
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(metadata))
    monkeypatch.setattr(launcher, "METADATA", str(path))
    secret = "s3cr3tvalue"
    bearer = "Bearer abcdef"
    assert launcher.main(["--config=c", f"--apiToken={secret}", f"--entities={bearer}"], {}, lambda cmd, env: None) == 2
    launcher.main(["--config=c", "--apiToken=abc", f"--entities={bearer}"], {}, lambda cmd, env: None)
    launcher.main([f"--config=https://user:hunter2@example.com/c.yaml"], {}, lambda cmd, env: None)
    out = capsys.readouterr()
    for leaked in (secret, bearer, "abc ", "hunter2"):
        assert leaked not in out.out + out.err
    assert "***" in out.out and "***" in out.err
