"""The rendered rule files pass `promtool check rules` and the promtool unit tests in tests/promtool/.

For each committed stack the rule files are rendered exactly as AMP gets them
(`render_rule_files`) into a temp dir, next to copies of the test files that
apply to that stack: `<topic>.yaml` applies to every stack, `<topic>.<stack>.yaml`
to one, `<topic>.<stack>+<stack>.yaml` to those named (absence alerts exist only where
a collector writes to the workspace). The SLO burn-rate tests depend on each stack's
objectives and are generated from them (`slo_promtool_cases`). A test file whose rule files the stack
does not render (e.g. cluster resources on a stack without Kubernetes) is left
out for that stack; the coverage tests below make sure nothing goes untested.
A test file whose rule files render byte-identical for two stacks runs once:
same input, same result. One promtool process per stack, all in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting.rule_model import Alert, Recording
from infra.alerting.rules import render_rule_files, rule_namespaces
from infra.config.stackfile import REPO_ROOT, stack_settings
from infra.promql import series_names
from tests.alerting.slo_promtool_cases import slo_test_document
from tests.conftest import STACKS

PROMTOOL_TESTS = REPO_ROOT / "tests" / "promtool"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
# `promtool test rules` opens a new TSDB for every test group and allocates far more than it keeps: with
# Go's default GOGC=100 about a quarter of its CPU time goes to garbage collection. GOGC=400 trades ~150 MB
# per process for most of that; the rules are evaluated exactly as before.
PROMTOOL_TEST_ENV = {**os.environ, "GOGC": "400"}
TIMEOUT_SECONDS = 120
# Always firing by design (the dead man's switch): it has no quiet case.
ALWAYS_FIRING = {"Watchdog"}


def applies_to(test_file: Path, stack: str) -> bool:
    parts = test_file.name.split(".")
    return len(parts) == 2 or stack in parts[1].split("+")


def promtool_test_files() -> list[Path]:
    return sorted(PROMTOOL_TESTS.glob("*.yaml"))


def rule_files_of(test_file: Path) -> list[str]:
    return list(yaml.safe_load(test_file.read_text())["rule_files"])


@dataclass
class StackRun:
    stack: str
    directory: Path
    rule_files: Mapping[str, str]
    test_files: list[Path] = field(default_factory=list)  # every file that applies to the stack
    runs_here: list[Path] = field(default_factory=list)  # those not already run on identical rules
    check: subprocess.CompletedProcess[str] | None = None
    unit: subprocess.CompletedProcess[str] | None = None


def _prepare(stack: str, directory: Path, already_run: set[tuple[str, ...]]) -> StackRun:
    run = StackRun(stack, directory, render_rule_files(stack_settings(stack)))
    (directory / "rules").mkdir(parents=True)
    for namespace, text in run.rule_files.items():
        (directory / "rules" / f"{namespace}.yaml").write_text(text)
    for test_file in promtool_test_files():
        rule_files = [directory / f for f in rule_files_of(test_file)]
        if not applies_to(test_file, stack) or not all(f.is_file() for f in rule_files):
            continue
        run.test_files.append(test_file)
        key = (test_file.name, *(f.read_text() for f in rule_files))
        if key not in already_run:
            already_run.add(key)
            shutil.copy(test_file, directory / test_file.name)
            run.runs_here.append(test_file)
    if (directory / "rules" / "slo.yaml").is_file():
        generated = directory / f"slo.{stack}.yaml"
        generated.write_text(yaml.safe_dump(slo_test_document(stack_settings(stack)), sort_keys=False))
        run.test_files.append(generated)
        run.runs_here.append(generated)
    return run


@pytest.fixture(scope="module")
def promtool_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackRun]:
    if not Path(PROMTOOL).is_file():
        pytest.fail("promtool is not installed: run `make tools` (Debian package prometheus)")
    already_run: set[tuple[str, ...]] = set()
    runs = {stack: _prepare(stack, tmp_path_factory.mktemp(f"promtool-{stack}"), already_run) for stack in STACKS}
    processes: list[tuple[StackRun, str, subprocess.Popen[str]]] = []
    for run in runs.values():
        rules = sorted(f"rules/{namespace}.yaml" for namespace in run.rule_files)
        tests = [test_file.name for test_file in run.runs_here]
        for kind, argv in (("check", ["check", "rules", *rules]), ("unit", ["test", "rules", *tests])):
            process = subprocess.Popen(
                [PROMTOOL, *argv],
                cwd=run.directory,
                env=PROMTOOL_TEST_ENV,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes.append((run, kind, process))
    for run, kind, process in processes:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
        setattr(run, kind, subprocess.CompletedProcess(process.args, process.returncode, output))
    return runs


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_check_rules_passes_on_every_rendered_file(promtool_runs: dict[str, StackRun], stack: str) -> None:
    run = promtool_runs[stack]
    assert run.check is not None
    assert run.check.returncode == 0, run.check.stdout
    assert run.check.stdout.count("SUCCESS") == len(run.rule_files)


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_unit_tests_pass_on_the_rendered_files(promtool_runs: dict[str, StackRun], stack: str) -> None:
    run = promtool_runs[stack]
    assert run.unit is not None
    assert run.unit.returncode == 0, run.unit.stdout
    assert run.unit.stdout.count("SUCCESS") == len(run.runs_here) > 0


# --- every rule has its cases -------------------------------------------------


def _tests_of(files: list[Path]) -> Iterator[dict[str, Any]]:
    for test_file in files:
        yield from yaml.safe_load(test_file.read_text())["tests"]


def _alert_cases(files: list[Path]) -> list[tuple[str, set[str]]]:
    """(alertname, severities expected to fire) for every alert_rule_test case."""
    return [
        (case["alertname"], {alert["exp_labels"]["severity"] for alert in case.get("exp_alerts") or []})
        for test in _tests_of(files)
        for case in test.get("alert_rule_test") or []
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_has_a_firing_case_and_a_quiet_case_per_severity(
    promtool_runs: dict[str, StackRun], stack: str
) -> None:
    run = promtool_runs[stack]
    cases = _alert_cases(run.test_files)
    alerts = {
        (rule.name, rule.severity)
        for namespace in rule_namespaces(stack_settings(stack))
        for rule in namespace.rules
        if isinstance(rule, Alert)
    }
    never_fires = sorted(a for a in alerts if not any(name == a[0] and a[1] in fired for name, fired in cases))
    never_quiet = sorted(
        a
        for a in alerts
        if a[0] not in ALWAYS_FIRING and not any(name == a[0] and a[1] not in fired for name, fired in cases)
    )
    assert not never_fires, f"{stack}: no promtool case shows these alerts firing: {never_fires}"
    assert not never_quiet, f"{stack}: no promtool case shows these alerts staying quiet: {never_quiet}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_recording_rule_has_an_expression_test(promtool_runs: dict[str, StackRun], stack: str) -> None:
    run = promtool_runs[stack]
    tested = {
        name
        for test in _tests_of(run.test_files)
        for case in test.get("promql_expr_test") or []
        for name in series_names(case["expr"])
    }
    records = {
        rule.record
        for namespace in rule_namespaces(stack_settings(stack))
        for rule in namespace.rules
        if isinstance(rule, Recording)
    }
    assert sorted(records - tested) == [], f"{stack}: recording rules with no promql_expr_test"


def test_every_expected_alert_names_its_service_and_severity() -> None:
    for test in _tests_of(promtool_test_files()):
        for case in test.get("alert_rule_test") or []:
            for alert in case.get("exp_alerts") or []:
                labels = alert["exp_labels"]
                assert labels.get("service") and labels.get("severity"), (case["alertname"], labels)
                assert set(alert["exp_annotations"]) == {"summary", "description", "runbook_url"}


def test_every_test_file_runs_for_some_stack(promtool_runs: dict[str, StackRun]) -> None:
    used = {test_file for run in promtool_runs.values() for test_file in run.runs_here}
    assert sorted(f.name for f in set(promtool_test_files()) - used) == []
    for test_file in promtool_test_files():
        parts = test_file.name.split(".")
        named = parts[1].split("+") if len(parts) == 3 else []
        assert len(parts) == 2 or (named and set(named) <= set(STACKS)), f"{test_file.name}: unknown stack"
