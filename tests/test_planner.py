"""`python -m planner`: the tree, the outputs, plan.json and the exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pulumi_aws as aws
import pytest

from infra.config.stackfile import REPO_ROOT, load_stack_file, placeholder
from planner.__main__ import main
from planner.engine import run_program


def test_plan_writes_plan_json_with_every_resource_and_the_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prod", "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "prod" / "plan.json").read_text())
    printed = capsys.readouterr().out
    types = {r["type"] for r in document["resources"]}
    assert {"aws:amp/workspace:Workspace", "monitoring:index:AmpWorkspace"} <= types
    for resource in document["resources"]:
        assert {"urn", "type", "name", "parent", "inputs", "outputs"} <= set(resource)
    assert document["outputs"]["amp_workspace_id"].startswith("ws-")
    assert re.search(r"monitoring:index:AmpWorkspace +amp +create +2 protected", printed)
    assert "amp_remote_write_url (simulated)" in printed


def test_secrets_appear_only_as_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "--out", str(tmp_path), "--details"]) == 0  # every input printed
    printed = capsys.readouterr().out
    plan_text = (tmp_path / "dev" / "plan.json").read_text()
    # dev imports them from the ESC environment screener-shared: present, value unknown offline.
    assert json.loads(plan_text)["fromEnvironment"] == {
        "monitoring:grafanaAuth": "screener-shared",
        "monitoring:syntheticMonitoringToken": "screener-shared",
        "monitoring:sentryAuthToken": "screener-shared",
    }
    assert "monitoring:grafanaAuth" in printed and "from the ESC environment screener-shared" in printed
    # The placeholder value itself must never leak into a resource input or the printed tree.
    for key in ("monitoring:grafanaAuth", "monitoring:syntheticMonitoringToken"):
        assert placeholder(key) not in plan_text
        assert placeholder(key) not in printed
    # It reaches the providers, as a secret.
    providers = {
        r["name"]: r["inputs"]
        for r in json.loads(plan_text)["resources"]
        if r["type"].startswith("pulumi:providers:grafana")
    }
    assert providers["grafana"]["auth"] == "[secret]"
    assert providers["grafana-synthetics"]["smAccessToken"] == "[secret]"


def test_config_error_exits_2_with_its_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuchstack", "--out", str(tmp_path)]) == 2
    assert "no stack file stacks/Pulumi.nosuchstack.yaml; stacks here: dev, prod, staging" in capsys.readouterr().err


def test_a_plan_does_not_depend_on_the_interpreters_hash_seed(tmp_path: Path) -> None:
    """This process and a second one with another string-hash seed write the same plan.json.

    Set and dict iteration over strings follows the hash seed, so anything that
    orders output by it differs between these runs (two runs in one process
    would share one seed and could not show it). This process is one of the two:
    its seed is PYTHONHASHSEED when set, else random, and the other process is
    given a different fixed one; a second interpreter would add only its start-up.
    """
    other_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    command = [sys.executable, "-m", "planner", "dev", "--out", str(tmp_path / "other"), "--quiet"]
    env = {**os.environ, "PYTHONHASHSEED": other_seed}
    other = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert main(["dev", "--out", str(tmp_path / "here"), "--quiet"]) == 0
    finally:
        _, stderr = other.communicate(timeout=120)
    assert other.returncode == 0, stderr
    assert (tmp_path / "here/dev/plan.json").read_text() == (tmp_path / "other/dev/plan.json").read_text()


def test_a_logical_name_declared_twice_fails_as_the_real_engine_does() -> None:
    def program() -> None:
        aws.sns.Topic("alerts")
        aws.sns.Topic("alerts")

    with pytest.raises(ValueError, match=r"Duplicate resource URN '.*aws:sns/topic:Topic::alerts'"):
        run_program(load_stack_file("dev"), program)


def test_a_plan_after_a_failed_program_does_not_inherit_its_error() -> None:
    """Pulumi keeps a failed program's output tasks and RPC error process-wide; the engine forgets them."""

    def failing() -> None:
        aws.sns.Topic("alerts")
        aws.sns.Topic("alerts")

    def succeeding() -> None:
        aws.sns.Topic("other")

    with pytest.raises(ValueError, match="Duplicate resource URN"):
        run_program(load_stack_file("dev"), failing)
    plan = run_program(load_stack_file("dev"), succeeding)
    assert [resource.name for resource in plan.resources] == ["other"]
