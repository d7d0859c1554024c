"""The rule renderer and the AMP upload: what AMP gets is what promtool tested, and every rule is well-formed.

promtool itself (check and unit tests) runs in test_rules_promtool.py; here:
the byte-identical upload under mocks, the metric names every expression
uses, the conventions of every alert, runbook links, and how the catalog and
the settings shape the rules.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from infra.alerting.rule_business import trading_hours_filter
from infra.alerting.rule_model import SEVERITIES, Alert, le_matcher, num, sel
from infra.alerting.rules import render_rule_files, rule_namespaces
from infra.config import ConfigError
from infra.config.alerting import TradingHours
from infra.config.stackfile import stack_settings
from infra.metrics import known_series_names
from infra.promql import series_names
from planner.artifacts import write_artifacts
from planner.engine import Plan, run_stack
from tests.alerting.label_flow import expression_keeps_label
from tests.conftest import STACKS, plan_of

RULE_NAMESPACE = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
RUNBOOK_BASE = "https://github.com/screener-platform/monitoring/blob/main/docs/runbooks.md"
# Expressions without labels or a meaningful value (vector(1), absent(up)): their description is static.
STATIC_DESCRIPTIONS = {"Watchdog", "MetricsNotArriving"}


def rendered_rules(stack: str) -> list[dict[str, Any]]:
    """Every rule of a stack as parsed back from the rendered YAML."""
    return [
        rule
        for text in render_rule_files(stack_settings(stack)).values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
    ]


# --- the upload ----------------------------------------------------------------


def test_uploaded_rule_data_is_byte_identical_to_the_rendered_files(stack_plan: Plan) -> None:
    expected = render_rule_files(stack_settings(stack_plan.stack))
    uploaded = {ns.inputs["name"]: ns.inputs["data"] for ns in stack_plan.of_type(RULE_NAMESPACE)}
    assert sorted(uploaded) == sorted(expected)
    for name, text in expected.items():
        assert uploaded[name].encode() == text.encode(), name


def test_each_namespace_is_a_child_named_after_the_component_in_this_workspace(stack_plan: Plan) -> None:
    workspace_id = stack_plan.outputs["amp_workspace_id"]
    component = stack_plan.one("monitoring:index:AlertRules", "alert-rules")
    for namespace in stack_plan.of_type(RULE_NAMESPACE):
        assert namespace.name == f"alert-rules-{namespace.inputs['name']}"
        assert namespace.parent == component.urn
        assert namespace.inputs["workspaceId"] == workspace_id
        assert namespace.inputs["tags"]["environment"] == stack_plan.stack
        assert namespace.inputs["tags"]["component"] == "alert-rules"
        assert {"service", "owner"} <= set(namespace.inputs["tags"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_rule_files_as_data_are_what_their_text_says(stack: str) -> None:
    """The cost model reads `documents`, AMP uploads the text: parsed back, each text is its document."""
    files = render_rule_files(stack_settings(stack))
    assert list(files.documents) == list(files)
    for namespace, document in files.documents.items():
        assert yaml.safe_load(files[namespace]) == document, namespace


def test_stack_exports_the_rule_namespace_names(stack_plan: Plan) -> None:
    assert stack_plan.outputs["amp_rule_namespaces"] == list(render_rule_files(stack_settings(stack_plan.stack)))


def test_make_plan_writes_each_rule_file_as_uploaded(tmp_path: Path) -> None:
    plan = plan_of("prod")
    written = write_artifacts(plan, tmp_path)
    rules = {path.stem: path.read_text() for path in written if path.parent.name == "rules"}
    assert rules == render_rule_files(stack_settings("prod"))


def test_namespaces_follow_the_catalog_per_stack() -> None:
    names = {stack: list(render_rule_files(stack_settings(stack))) for stack in STACKS}
    assert names["dev"] == ["api", "slo", "availability", "database", "cache", "workers", "business", "meta"]
    # Kubernetes discovery brings the cluster resources and objects; static targets (dev) have none to watch.
    assert names["staging"] == names["prod"] == [*names["dev"][:5], "resources", "kubernetes", *names["dev"][5:]]


# --- what every expression may name ---------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_expression_names_only_catalog_series_or_our_recordings(stack: str) -> None:
    rules = rendered_rules(stack)
    recorded = {rule["record"] for rule in rules if "record" in rule}
    allowed = known_series_names() | recorded
    unknown = {(rule.get("alert") or rule["record"], name) for rule in rules for name in series_names(rule["expr"])}
    assert sorted(item for item in unknown if item[1] not in allowed) == []


def test_recording_rules_are_named_level_metric_operations() -> None:
    for rule in rendered_rules("staging"):
        if "record" in rule:
            level, metric, operations = rule["record"].split(":")
            # `kubernetes`: the workload mapping's info series (rule_kubernetes.SERVICE_INFO).
            assert level in {"service", "slo", "kubernetes"} and metric and operations, rule["record"]


# --- alert conventions ----------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_has_severity_service_and_the_three_annotations(stack: str) -> None:
    for rule in rendered_rules(stack):
        if "alert" not in rule:
            continue
        name, labels, annotations = rule["alert"], rule["labels"], rule["annotations"]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name)
        assert labels["severity"] in SEVERITIES, name
        # A static service label, or (a family rule over every service) an expression whose every result
        # carries `service` (tests/alerting/label_flow.py follows the label through the PromQL).
        assert "service" in labels or expression_keeps_label(rule["expr"], "service"), name
        assert set(annotations) == {"summary", "description", "runbook_url"}, name
        assert "{{" not in annotations["summary"], name
        templated = "{{ $labels." in annotations["description"] or "{{ $value" in annotations["description"]
        assert templated or name in STATIC_DESCRIPTIONS, name
        assert annotations["runbook_url"] == f"{RUNBOOK_BASE}#{name.lower()}"


def test_every_alert_waits_as_long_as_its_builder_says(stack_plan: Plan) -> None:
    alerts = [r for ns in rule_namespaces(stack_settings(stack_plan.stack)) for r in ns.rules if isinstance(r, Alert)]
    rendered = [rule for rule in rendered_rules(stack_plan.stack) if "alert" in rule]
    assert [rule.get("for", "0") for rule in rendered] == [alert.for_ for alert in alerts]
    # Only the Watchdog and alerts whose window (or lateness) already keeps them open fire at once.
    at_once = {"Watchdog", "PostgresDeadlocks", "AirflowDagRunFailed"}
    if stack_plan.stack != "dev":
        at_once |= {"KubeContainerOOMKilled", "KubeCronJobNotScheduled"}
    assert {a.name for a in alerts if a.for_ == "0"} == at_once


def test_every_stack_has_an_always_firing_watchdog_without_severity() -> None:
    for stack in STACKS:
        (watchdog,) = [rule for rule in rendered_rules(stack) if rule.get("alert") == "Watchdog"]
        assert watchdog["expr"] == "vector(1)"
        assert watchdog["labels"] == {"severity": "none", "service": "monitoring"}
        assert "for" not in watchdog


def test_paired_alerts_share_a_name_with_a_warning_and_a_critical() -> None:
    severities: dict[tuple[str, str], set[str]] = {}
    for rule in rendered_rules("staging"):
        if "alert" in rule:
            key = (rule["alert"], rule["labels"].get("service", ""))
            severities.setdefault(key, set()).add(rule["labels"]["severity"])
    paired = {name for (name, _), found in severities.items() if found == {"warning", "critical"}}
    assert paired >= {
        "ApiHighErrorRate",
        "ApiHighLatency",
        "ApiAvailabilityBudgetBurn",
        "ApiLatencyBudgetBurn",
        "ServiceDown",
        "PostgresConnectionsSaturated",
        "NodeDiskFreeLow",
        "NodeDiskFillingUp",
        "VolumeDiskFreeLow",
    }


# --- how settings shape the rules -------------------------------------------------


def test_a_stack_without_a_service_kind_gets_none_of_its_rules() -> None:
    settings = stack_settings("dev")
    api_only = settings.model_copy(update={"services": tuple(s for s in settings.services if s.kind == "api")})
    files = render_rule_files(api_only)
    assert list(files) == ["api", "slo", "availability", "database", "cache", "business", "meta"]
    text = "\n".join(files.values())
    for absent in ("RedisDown", "PostgresDown", "NginxDown", "CeleryQueueBacklog", 'service="redis"'):
        assert absent not in text
    # The API's own pool and cache metrics still have their alerts.
    assert "DatabasePoolExhausted" in files["database"] and "CacheHitRatioLow" in files["cache"]


def test_the_collector_is_watched_only_where_it_runs_in_the_cluster() -> None:
    for stack, watched in (("dev", False), ("staging", True), ("prod", False)):
        files = render_rule_files(stack_settings(stack))
        assert ('"service", "collector"' in files["availability"]) is watched, stack
        assert ("CollectorRemoteWriteBehind" in files["meta"]) is watched, stack


def test_absence_alerts_exist_only_where_a_collector_writes_to_the_workspace() -> None:
    """Dev collects nothing (collection.mode none): absent(...) would page its empty workspace at once."""
    for stack, collects in (("dev", False), ("staging", True), ("prod", True)):
        files = render_rule_files(stack_settings(stack))
        assert ("MetricsNotArriving" in files["meta"]) is collects, stack
        # The catalog services with no `up` series at all.
        assert ("service:catalog:info unless on (service) up" in files["availability"]) is collects, stack


def test_lab_only_series_are_never_uploaded() -> None:
    """AMP does not expose prometheus_rule_evaluation_failures_total; its rule failures are a CloudWatch alarm."""
    for stack in STACKS:
        for text in render_rule_files(stack_settings(stack)).values():
            assert "prometheus_rule_evaluation_failures_total" not in text, stack


def test_thresholds_and_objectives_come_from_the_settings() -> None:
    settings = stack_settings("prod")
    tuned = settings.model_copy(
        update={
            "thresholds": settings.thresholds.model_copy(update={"error_ratio_percent": 2.5}),
            "slo": settings.slo.model_copy(update={"availability_percent": 99.95}),
            "rules": settings.rules.model_copy(update={"evaluation_interval_seconds": 5}),
        }
    )
    files = render_rule_files(tuned)
    assert "service:http_requests:error_ratio_rate5m > 0.025\n" in files["api"]
    assert "(threshold 2.5%)" in files["api"]
    # The objective is data the burn-rate rules join against (slo:objective:ratio), one series per service.
    assert "0 * service:http_requests:rate5m + 0.9995\n" in files["slo"]
    assert all("  interval: 5s\n" in text for text in files.values())


def test_number_literals_carry_no_float_noise() -> None:
    assert [num(x) for x in (0.1 + 0.2, 1 - 0.999, 14.4, 2.0, 0.0)] == ["0.3", "0.001", "14.4", "2", "0"]
    assert sel("up", service="api", status_code="~5..", container="!~|POD", mountpoint="!") == (
        'up{service="api",status_code=~"5..",container!~"|POD",mountpoint!=""}'
    )


def test_latency_bucket_bound_matches_both_ways_collectors_write_it(tmp_path: Path) -> None:
    """prometheus_client writes le="1.0", Prometheus 3 scrapers le="1": the SLI must count both."""
    assert le_matcher(500) == "0.5"
    settings = stack_settings("prod")
    one_second = settings.model_copy(update={"slo": settings.slo.model_copy(update={"latency_threshold_ms": 1000})})
    (tmp_path / "slo.yaml").write_text(render_rule_files(one_second)["slo"])
    (tmp_path / "test.yaml").write_text(
        yaml.safe_dump(
            {
                "rule_files": ["slo.yaml"],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [
                            {"series": f'http_request_duration_seconds_bucket{{service="api",le="{le}"}}', "values": v}
                            for le, v in (("1.0", "0+60x10"), ("1", "0+30x10"), ("10.0", "0+100x10"))
                        ]
                        + [{"series": 'http_request_duration_seconds_count{service="api"}', "values": "0+100x10"}],
                        "promql_expr_test": [
                            {
                                "expr": "round(service:http_request_duration_seconds:slow_ratio_rate5m, 0.001)",
                                "eval_time": "10m",
                                "exp_samples": [{"labels": '{service="api"}', "value": 0.1}],
                            }
                        ],
                    }
                ],
            }
        )
    )
    result = subprocess.run(
        ["promtool", "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_trading_hours_follow_the_market_time_zone_and_days() -> None:
    krx = trading_hours_filter(TradingHours())
    assert "vector(time() + 32400)" in krx
    assert ">= 540 < 930" in krx
    assert "day_of_week(vector(time() + 32400)) >= 1 <= 5" in krx
    odd = trading_hours_filter(TradingHours(weekdays=(1, 2, 4), utc_offset_hours=-5, open_local="09:30"))
    assert "== 4" in odd and ">= 1 <= 2" in odd and "time() + -18000" in odd and ">= 570" in odd
    promql_parser.parse(odd)


# --- bad settings are refused with the setting, the stack file and the fix --------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"monitoring:thresholds": {"errorRatioPercent": 5, "errorRatioCriticalPercent": 2}},
            "stacks/Pulumi.dev.yaml: monitoring:thresholds: errorRatioPercent (5.0) must be below "
            "errorRatioCriticalPercent (2.0); raise errorRatioCriticalPercent",
        ),
        (
            {"monitoring:rules": {"runbookBaseUrl": "https://wiki.example.com/runbooks#top"}},
            "stacks/Pulumi.dev.yaml: monitoring:rules.runbookBaseUrl: "
            "'https://wiki.example.com/runbooks#top' must not carry an #anchor",
        ),
        (
            {"monitoring:rules": {"tradingHours": {"openLocal": "9h"}}},
            "stacks/Pulumi.dev.yaml: monitoring:rules.tradingHours.openLocal: '9h' is not a time of day",
        ),
        (
            {"monitoring:rules": {"tradingHours": {"openLocal": "16:00"}}},
            "stacks/Pulumi.dev.yaml: monitoring:rules.tradingHours: openLocal 16:00 must be before closeLocal 15:30",
        ),
    ],
)
def test_inconsistent_alerting_settings_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides=overrides)
    assert any(problem.startswith(message) for problem in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("expr", "keeps"),
    [
        # The Kubernetes alerts' join: `service` is copied from the mapping's info series.
        ('x{pod="p"} * on (namespace, pod) group_left (service) info{service="api"}', True),
        ("x * on (namespace, pod) group_left (service) sum by (namespace, pod) (info)", False),  # one side lacks it
        ('sum by (pod) (x) * on (pod) group_left () info{service="api"}', False),  # not listed: the many side's
        ('x{service="a"} * on (pod) group_left (owner) info', True),
        ("info * on (pod) group_right (service) sum by (pod) (x)", True),
    ],
)
def test_the_label_flow_reading_follows_group_left_and_group_right(expr: str, keeps: bool) -> None:
    assert expression_keeps_label(expr, "service") is keeps
