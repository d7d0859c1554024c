"""The quota estimate (infra/alerting/quotas.py) and the scale target of issue 27, on generated catalogs.

Staging with a generated catalog of 2,000 services (bench/plan_once.py): at most 1,800 AMP rules, every
namespace at most 900 KB, the synthetic-check rules Grafana evaluates a constant; and the rule count is the
same at 10 services as at 2,000 (rules by alert family, not by service).
"""

from __future__ import annotations

from functools import cache

from bench.plan_once import generated_overrides
from infra.alerting.quotas import alert_instances, metric_names, quota_usage
from infra.alerting.rule_availability import monitored_service_names
from infra.alerting.rules import RuleFiles, render_rule_files
from infra.alerting.uptime_rules import uptime_rule_groups
from infra.components.synthetics_checks import plan_checks
from infra.config import StackInput
from infra.config.loader import NAMESPACE, decode_config_value
from infra.config.stackfile import load_stack_file, stack_settings
from infra.config.synthetics import SM_DATASOURCE_UID
from infra.promql import series_names
from tests.conftest import STACKS


@cache
def generated(size: int) -> StackInput:
    """Staging's settings with a generated catalog of `size` services, decoded as `stack_settings` decodes them."""
    stack_file = load_stack_file("staging", fill_unset_secrets=False, overrides=generated_overrides("staging", size))
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): decode_config_value(value)
        for key, value in stack_file.config.items()
        if key.startswith(f"{NAMESPACE}:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)


@cache
def files(size: int) -> RuleFiles:
    return render_rule_files(generated(size))


def rule_count(rule_files: RuleFiles) -> int:
    return sum(len(group["rules"]) for document in rule_files.documents.values() for group in document["groups"])


def test_2000_services_fit_the_target_with_room_to_spare() -> None:
    rule_files = files(2000)
    assert len(generated(2000).services) == 2000
    assert rule_count(rule_files) <= 1800
    assert max(len(text.encode()) for text in rule_files.values()) <= 900_000
    usage = quota_usage(generated(2000), rule_files)
    assert usage.rules.within and usage.namespace_bytes.within and usage.rules_per_group.within


def test_the_rule_count_does_not_grow_with_the_catalog() -> None:
    assert rule_count(files(10)) == rule_count(files(2000))


def test_grafana_evaluates_two_synthetic_rules_for_every_check_of_2000_services() -> None:
    settings = generated(2000)
    checks = plan_checks(settings)
    assert len(checks) > 300
    groups = uptime_rule_groups(checks, settings.synthetics, "screener-staging", SM_DATASOURCE_UID)
    assert sum(len(group.rules) for group in groups) == 2


def test_a_family_rule_counts_once_per_service_of_the_kinds_it_reads() -> None:
    settings = stack_settings("prod")
    instances = alert_instances(settings, render_rule_files(settings).namespaces)
    api = sum(1 for s in settings.services if s.kind == "api" and s.scrape)
    assert instances[("ApiHighErrorRate", "critical")] == api  # application series, through recordings
    assert instances[("ServiceDown", "critical")] == len(monitored_service_names(settings))  # only `up`
    assert instances[("PostgresDown", "critical")] == sum(1 for s in settings.services if s.kind == "postgres")
    assert instances[("Watchdog", "none")] == 1  # a static service label: one alert


def test_the_outage_estimate_grows_with_the_catalog_and_crosses_amps_1000() -> None:
    small, large = quota_usage(generated(10), files(10)), quota_usage(generated(2000), files(2000))
    assert small.active_alerts.used < large.active_alerts.used
    assert not large.active_alerts.within and large.active_alerts.limit == 1000


def test_the_lexical_metric_reader_agrees_with_the_parser_on_every_committed_rule() -> None:
    for stack in STACKS:
        for document in render_rule_files(stack_settings(stack)).documents.values():
            for group in document["groups"]:
                for rule in group["rules"]:
                    assert metric_names(rule["expr"]) == series_names(rule["expr"]), rule.get(
                        "alert", rule.get("record")
                    )
