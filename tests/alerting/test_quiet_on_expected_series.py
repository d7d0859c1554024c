"""A stack never uploads an alert that fires on the data it is configured to have.

Per committed stack, one real `promtool test rules` run evaluates the rule
files that stack uploads to AMP (`render_rule_files`, production clock) on
the series its collection mode can produce, and asserts that no alert above
`info` fires:

- dev (`collection.mode: none`) writes nothing to its workspace: no input
  series at all. An `absent(...)` alert there pages from the first minute.
- staging and prod: a healthy platform, i.e. what the lab's traffic simulator
  (`lab/simulator.py`, healthy `Conditions()`) serves on every target of the
  stack's own scrape jobs, with the labels those jobs attach, the job's
  keep-list applied and `up` = 1 per target. Counters grow at their healthy
  rates for longer than the longest `for` of any alert.

`test_the_check_fails_on_a_planted_absence_alert` shows the check catching
the defect it exists for: dev's rules rendered as if dev expected series
(the absence alerts of a collecting stack) page on dev's empty workspace.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import rule_model
from infra.alerting.rule_model import Alert
from infra.alerting.rules import render_rule_files, rule_namespaces
from infra.alerting.time_scale import duration_seconds
from infra.collection.scrape_config import scrape_jobs
from infra.config import StackInput
from infra.config.stackfile import stack_settings
from lab.config import _discovered, _static_labels
from lab.simulator import REPLICAS, SOURCES, Conditions, Target, node_exporter
from tests.alerting.test_rules_promtool import PROMTOOL, PROMTOOL_TEST_ENV
from tests.conftest import STACKS

QUIET_SEVERITIES = ("info", "none")
STEP_MINUTES = 1
# The input is steady (healthy traffic at constant rates), so whether an alert
# fires at the end does not depend on evaluating every minute: an alert whose
# condition holds over its last `for` is firing at the end either way. Every
# 5 minutes keeps the three runs under a second each.
EVALUATION_INTERVAL = "5m"
# The simulator's healthy traffic is steady: counters grow linearly at their rates.
_SECONDS_PER_STEP = 60 * STEP_MINUTES


def loud_alert_names(settings: StackInput) -> list[str]:
    """Alert names with at least one rule above info (only those must stay quiet)."""
    return sorted(
        {
            rule.name
            for namespace in rule_namespaces(settings)
            for rule in namespace.rules
            if isinstance(rule, Alert) and rule.severity not in QUIET_SEVERITIES
        }
    )


def longest_wait_minutes(settings: StackInput) -> int:
    """The longest `for` of any alert, in minutes: evaluating later lets every pending alert fire."""
    longest = max(
        (
            duration_seconds(rule.for_)
            for namespace in rule_namespaces(settings)
            for rule in namespace.rules
            if isinstance(rule, Alert)
        ),
        default=0,
    )
    return int(longest) // 60


def _keep(body: dict[str, Any], name: str) -> bool:
    for rule in body.get("metric_relabel_configs", []):
        keeps = rule.get("action") == "keep" and rule.get("source_labels") == ["__name__"]
        if keeps and not re.fullmatch(rule["regex"], name):
            return False
    return True


def _selector(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def healthy_series(settings: StackInput, points: int) -> list[dict[str, str]]:
    """promtool input series: every healthy target of the stack's scrape jobs, as the collector would store them."""
    series: dict[str, str] = {}
    for job in scrape_jobs(settings, settings.collection.cluster_name):
        static = _static_labels(job.body.get("relabel_configs", []))
        replicas = REPLICAS.get(job.source, 1)
        namespace = next(
            (s.scrape.k8s_namespace for s in settings.services if s.name == job.name and s.scrape),
            settings.collection.namespace,
        )
        for replica in range(replicas):
            target = Target(job.name, job.source, replica)
            target_labels = {**static, "job": job.name, "instance": f"{job.name}-{replica}"}
            target_labels.update(_discovered(job.body, target, namespace))
            series[_selector("up", target_labels)] = f"1x{points}"
            model = node_exporter(Conditions(), replicas, replica) if job.source == "node_exporter" else None
            samples = (model or SOURCES[job.source](Conditions(), replicas)).samples
            for sample in samples:
                if not _keep(job.body, sample.name):
                    continue
                own = dict(sample.labels)
                # honor_labels: the exporter's labels win; otherwise the target's do.
                labels = {**target_labels, **own} if job.body.get("honor_labels") else {**own, **target_labels}
                if sample.kind == "counter":
                    values = f"0+{sample.value * _SECONDS_PER_STEP!r}x{points}"
                else:
                    values = f"{sample.value!r}x{points}"
                series[_selector(sample.name, labels)] = values
    return [{"series": selector, "values": values} for selector, values in series.items()]


def expected_input(settings: StackInput, points: int) -> list[dict[str, str]]:
    """What the stack's workspace receives: nothing without a collector, a healthy platform with one."""
    return healthy_series(settings, points) if rule_model.expects_series(settings) else []


def promtool_quiet_run(
    settings: StackInput, rule_files: Mapping[str, str], alert_names: list[str], directory: Path
) -> tuple[int, str]:
    """One `promtool test rules` run: every alert of `alert_names` stays quiet at the end of the input."""
    (directory / "rules").mkdir(parents=True, exist_ok=True)
    for namespace, text in rule_files.items():
        (directory / "rules" / f"{namespace}.yaml").write_text(text)
    eval_minutes = longest_wait_minutes(settings) + 15
    points = eval_minutes // STEP_MINUTES + 1
    test = {
        "rule_files": sorted(f"rules/{namespace}.yaml" for namespace in rule_files),
        "evaluation_interval": EVALUATION_INTERVAL,
        "tests": [
            {
                "interval": f"{STEP_MINUTES}m",
                "input_series": expected_input(settings, points),
                "alert_rule_test": [
                    {"eval_time": f"{eval_minutes}m", "alertname": name, "exp_alerts": []} for name in alert_names
                ],
            }
        ],
    }
    (directory / "quiet.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "quiet.yaml"],
        cwd=directory,
        env=PROMTOOL_TEST_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_no_alert_above_info_fires_on_the_series_the_stack_expects(stack: str, tmp_path: Path) -> None:
    settings = stack_settings(stack)
    names = loud_alert_names(settings)
    assert names, stack
    returncode, output = promtool_quiet_run(settings, render_rule_files(settings), names, tmp_path)
    assert returncode == 0, output
    assert "SUCCESS" in output


def test_dev_expects_no_series_and_the_others_a_healthy_platform() -> None:
    inputs = {stack: expected_input(stack_settings(stack), 2) for stack in STACKS}
    assert inputs["dev"] == []
    for stack in ("staging", "prod"):
        names = {entry["series"].split("{", 1)[0] for entry in inputs[stack]}
        # Every scraped catalog service answers, with the API's traffic and the node's resources.
        assert {"up", "http_requests_total", "pg_up", "redis_up", "node_cpu_seconds_total"} <= names, stack
        ups = [entry for entry in inputs[stack] if entry["series"].startswith("up{")]
        assert all(entry["values"] == "1x2" for entry in ups)


def test_the_check_fails_on_a_planted_absence_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = stack_settings("dev")
    # Render dev's rules as a collecting stack would (absent(up), absent(up{service=...})),
    # but feed dev's real input (nothing): the pages the fix removed come back.
    with monkeypatch.context() as patched:
        patched.setattr(rule_model, "expects_series", lambda _settings: True)
        for module in ("infra.alerting.rule_meta", "infra.alerting.rule_availability"):
            patched.setattr(f"{module}.expects_series", lambda _settings: True)
        planted = render_rule_files(settings)
        names = loud_alert_names(settings)
    assert "absent(up)" in planted["meta"]
    assert "MetricsNotArriving" in names
    returncode, output = promtool_quiet_run(settings, planted, names, tmp_path)
    assert returncode != 0
    assert "MetricsNotArriving" in output and "ServiceDown" in output
