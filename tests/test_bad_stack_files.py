"""Every defective stack file of the table is refused cleanly: exit 2 (configuration) or 3 (policy), key named;
every valid neighbour of a defect still plans, and its plan holds what it set.

The cases and the classifier live in `tests/bad_stack_files.py` (`python -m
tests.bad_stack_files` prints the table). Each case runs `python -m planner
--stack-file` in-process (its `main`: exit status and what it prints), so the
whole table costs well under a minute; two cases also run as a process, to see
no traceback reach the terminal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.alerting.rules import render_rule_files
from infra.config.stackfile import REPO_ROOT, stack_settings
from tests.bad_stack_files import (
    ACCEPTED,
    CASES,
    Case,
    broken_alerts,
    expected_key,
    never_fires,
    outcome,
    write_stack_file,
)

MIN_CASES = 200


def test_the_table_holds_at_least_two_hundred_distinct_cases() -> None:
    assert len(CASES) >= MIN_CASES
    assert len({case.id for case in CASES}) == len(CASES)


DEFECTS = [case for case in CASES if case.expect != ACCEPTED]
NEIGHBOURS = [case for case in CASES if case.expect == ACCEPTED]


@pytest.mark.parametrize("case", DEFECTS, ids=[case.id for case in DEFECTS])
def test_defective_stack_file_is_refused_with_its_key_named(case: Case, tmp_path: Path) -> None:
    result = outcome(case, tmp_path)
    # An accepted plan fails the case; say whether its alerts are broken too (promtool, never firing).
    broken = broken_alerts(result.rule_dir) if result.status == ACCEPTED and result.rule_dir is not None else []
    assert result.status == case.expect, f"{case.id}: {result.status}\n{result.detail}\n{broken}"
    assert expected_key(case, tmp_path / f"Pulumi.{case.stack}.yaml") in result.detail, result.detail
    assert "Traceback" not in result.detail


@pytest.mark.parametrize("case", NEIGHBOURS, ids=[case.id for case in NEIGHBOURS])
def test_valid_neighbour_of_a_defect_still_plans_and_renders(case: Case, tmp_path: Path) -> None:
    # The bounds must not over-refuse: the value just inside each one plans, and the plan holds what it set.
    result = outcome(case, tmp_path)
    assert result.status == ACCEPTED, f"{case.id}: {result.status}\n{result.detail}"
    assert result.rule_dir is not None and broken_alerts(result.rule_dir) == []
    assert case.key in (tmp_path / case.stack / "plan.json").read_text(), f"{case.id}: the plan lacks {case.key}"


def test_never_fires_finds_the_two_silencing_shapes_and_passes_a_live_alert() -> None:
    assert never_fires('sum(rate(x{service="api"}[5m])) >= +Inf') == "compares with inf"
    assert never_fires('x{endpoint="/health",endpoint="none"} > 0') == "label endpoint must equal ['/health', 'none']"
    assert never_fires('x{endpoint="/health",status_code!~"2.."} > 0.1') is None


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_committed_alert_can_never_fire(stack: str) -> None:
    settings = stack_settings(stack)
    problems = []
    for text in render_rule_files(settings).values():
        for group in yaml.safe_load(text)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule and (reason := never_fires(rule["expr"])):
                    problems.append(f"{rule['alert']}: {reason}")
    assert problems == []


# The entry point as a real process (exit 3 is checked in-process above: a full plan costs too much twice).
REPRESENTATIVE = {"yaml-syntax-error": 2, "unknown-region": 2}


@pytest.mark.parametrize(("case_id", "status"), REPRESENTATIVE.items())
def test_planner_exits_with_the_status_and_no_traceback(case_id: str, status: int, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.id == case_id)
    stack_file = write_stack_file(case, tmp_path)
    command = [sys.executable, "-m", "planner", case.stack, "--quiet", "--stack-file", str(stack_file)]
    result = subprocess.run(
        [*command, "--out", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert expected_key(case, stack_file) in result.stdout + result.stderr
