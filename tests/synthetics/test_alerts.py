"""Uptime alerts: one Grafana rule per family over every check, routed by the policy tree, tested with promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting.grafana_rules import GrafanaRule, rule_labels
from infra.alerting.uptime_rules import CERT_EXPIRING, FAILING, uptime_rule_groups
from infra.components.synthetics_checks import CheckSpec, plan_checks
from infra.config.stackfile import stack_settings
from infra.config.synthetics import SM_DATASOURCE_UID
from infra.metrics import known_series_names
from infra.promql import series_names
from planner.engine import Plan
from tests.conftest import plan_of
from tests.synthetics.support import RULE_COMPONENT, synthetic_rule_groups


def _rules(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    """(group, rule name) -> the planned rule."""
    return {
        (name, rule["name"]): rule
        for name, group in synthetic_rule_groups(plan).items()
        for rule in group.inputs["rules"]
    }


def test_one_failing_and_one_certificate_rule_cover_every_check(stack_plan: Plan) -> None:
    assert set(_rules(stack_plan)) == {("synthetics", FAILING), ("synthetics", CERT_EXPIRING)}
    for group in synthetic_rule_groups(stack_plan).values():
        assert group.inputs["folderUid"] == f"screener-{stack_plan.stack}"
    every_job = {check.job(f"screener-{stack_plan.stack}") for check in plan_checks(stack_settings(stack_plan.stack))}
    for rule in _rules(stack_plan).values():
        expr = json.loads(rule["datas"][0]["model"])["expr"]
        assert all(job in expr for job in every_job), expr


def test_the_rule_count_does_not_grow_with_the_checks() -> None:
    settings = stack_settings("prod")
    checks = plan_checks(settings)
    many = [replace(check, service=f"{check.service}-{i}") for i in range(50) for check in checks]
    for some in (checks, many):
        groups = uptime_rule_groups(some, settings.synthetics, "screener-prod", SM_DATASOURCE_UID)
        assert [len(group.rules) for group in groups] == [2]


def test_a_job_that_reads_back_as_another_service_is_refused() -> None:
    settings = stack_settings("prod")
    ambiguous = [CheckSpec("a", "b-health", "https://a.example/"), CheckSpec("a-b", "health", "https://b.example/")]
    with pytest.raises(ValueError, match="does not read back as service"):
        uptime_rule_groups(ambiguous, settings.synthetics, "screener-prod", SM_DATASOURCE_UID)


def test_failing_checks_page_and_expiring_certificates_warn_with_env_service_and_runbook(stack_plan: Plan) -> None:
    base = stack_settings(stack_plan.stack).rules.runbook_base_url
    for (_, name), rule in _rules(stack_plan).items():
        # `service` comes from each check's series (its job), not from the rule.
        assert rule["labels"] == {"env": stack_plan.stack, "severity": "critical" if name == FAILING else "warning"}
        assert rule["annotations"]["runbook_url"] == f"{base}#{name.lower()}"
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}


def test_every_uptime_alert_routes_to_its_own_stacks_contact_points(stack_plan: Plan) -> None:
    alerting = next(r for r in stack_plan.resources if r.type == "monitoring:index:GrafanaAlerting")
    routing = {child.urn for child in stack_plan.children_of(alerting.urn) if child.type.startswith("grafana:")}
    assert routing
    prefix = f"screener-{stack_plan.stack}"
    for (group, name), rule in _rules(stack_plan).items():
        audience = "oncall" if name == FAILING else "team"
        assert rule["notificationSettings"]["contactPoint"] == f"{prefix}-{audience}", group
    for component in stack_plan.of_type(RULE_COMPONENT):
        if "-rules-synthetics" in component.name:
            # Created after the contact points that route them.
            assert routing <= set(component.depends_on), component.name


def test_rules_query_the_grafana_cloud_prometheus_with_the_stack_thresholds() -> None:
    spec = stack_settings("prod").synthetics
    for (_, name), rule in _rules(plan_of("prod")).items():
        query, threshold = rule["datas"]
        assert query["datasourceUid"] == SM_DATASOURCE_UID
        assert series_names(json.loads(query["model"])["expr"]) <= known_series_names()
        evaluator = json.loads(threshold["model"])["conditions"][0]["evaluator"]
        if name == FAILING:
            assert evaluator == {"type": "gt", "params": [spec.failing_probes_percent / 100]}
            assert rule["for"] == f"{spec.failing_for_minutes}m"
        else:
            assert evaluator == {"type": "lt", "params": [spec.cert_expiry_days]}


# --- behaviour, evaluated by Prometheus's own rule engine ---------------------------

API = {"job": "screener-prod-api-health", "instance": "https://api.screener.kr/health"}


def _prometheus_rules(stack: str) -> list[dict[str, Any]]:
    """The Grafana rules as Prometheus alerting rules: Grafana's threshold is `expr <op> threshold`."""
    settings = stack_settings(stack)
    checks = plan_checks(settings)
    groups = uptime_rule_groups(checks, settings.synthetics, f"screener-{stack}", SM_DATASOURCE_UID)

    def alert(rule: GrafanaRule) -> dict[str, Any]:
        op = ">" if rule.comparison == "gt" else "<"
        return {
            "alert": rule.name,
            "expr": f"({rule.expr}) {op} {rule.threshold:g}",
            "for": f"{rule.for_minutes}m",
            "labels": rule_labels(rule, stack),
        }

    return [{"name": group.name, "rules": [alert(rule) for rule in group.rules]} for group in groups]


def _series(metric: str, probe: str, values: str) -> dict[str, str]:
    labels = ", ".join(f'{k}="{v}"' for k, v in {**API, "probe": probe}.items())
    return {"series": f"{metric}{{{labels}}}", "values": values}


def _expected(name: str, severity: str) -> list[dict[str, Any]]:
    return [{"exp_labels": {**API, "alertname": name, "env": "prod", "service": "api", "severity": severity}}]


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run `make tools` (installs Debian's prometheus package)"
    return found


def _run_promtool(promtool: str, tmp_path: Path, tests: list[dict[str, Any]]) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _prometheus_rules("prod")}))
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests})
    )
    checked = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "rules.yaml")], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = subprocess.run(
        [promtool, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_failing_fires_when_two_of_three_probes_fail_and_stays_quiet_for_one(promtool: str, tmp_path: Path) -> None:
    _run_promtool(
        promtool,
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    _series("probe_success", "Seoul", "0x20"),
                    _series("probe_success", "Tokyo", "0x20"),
                    _series("probe_success", "Singapore", "1x20"),
                ],
                "alert_rule_test": [
                    # Not yet: the share must hold for failingForMinutes (5).
                    {"eval_time": "3m", "alertname": FAILING, "exp_alerts": []},
                    {"eval_time": "10m", "alertname": FAILING, "exp_alerts": _expected(FAILING, "critical")},
                ],
            },
            {
                "interval": "1m",
                "input_series": [
                    _series("probe_success", "Seoul", "0x20"),
                    _series("probe_success", "Tokyo", "1x20"),
                    _series("probe_success", "Singapore", "1x20"),
                ],
                "alert_rule_test": [{"eval_time": "10m", "alertname": FAILING, "exp_alerts": []}],
            },
        ],
    )


def test_certificate_alert_fires_under_the_threshold_and_stays_quiet_above(promtool: str, tmp_path: Path) -> None:
    days = 86400
    _run_promtool(
        promtool,
        tmp_path,
        [
            {
                "interval": "1m",
                # promtool's clock starts at 0, so the value is the time left at the start.
                "input_series": [_series("probe_ssl_earliest_cert_expiry", "Seoul", f"{10 * days}x90")],
                "alert_rule_test": [
                    {"eval_time": "60m", "alertname": CERT_EXPIRING, "exp_alerts": _expected(CERT_EXPIRING, "warning")}
                ],
            },
            {
                "interval": "1m",
                "input_series": [_series("probe_ssl_earliest_cert_expiry", "Seoul", f"{30 * days}x90")],
                "alert_rule_test": [{"eval_time": "60m", "alertname": CERT_EXPIRING, "exp_alerts": []}],
            },
        ],
    )
