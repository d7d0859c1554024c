"""AMP's rule and Alertmanager quotas, refused (rules, bytes, groups) or warned about (outage) before upload.

AMP's defaults: https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html (2,000 rules per
workspace, 1 MB per rule groups namespace definition, 1,000 active alerts and 1,000 aggregation groups).
Every limit is tested exactly at the limit (passes) and one past it (refused).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi_policy import StackValidationArgs
from screener_policies.quotas import (
    ALERT_RULES_COMPONENT,
    DEFAULT_LIMITS,
    RULE_GROUP_NAMESPACE,
    amp_alertmanager_outage_quotas,
    amp_rule_quotas,
)

from infra.config import core
from planner.engine import Plan
from planner.policy_check import check_plan
from tests.policies.support import stack_resource


def namespace(name: str, groups: dict[str, int], pad_to: int | None = None) -> Any:
    """A rule groups namespace whose groups hold that many recording rules, padded to exactly `pad_to` bytes."""
    document = {
        "groups": [
            {"name": group, "rules": [{"record": "a:b:c", "expr": "1"} for _ in range(count)]}
            for group, count in groups.items()
        ]
    }
    data = yaml.safe_dump(document)
    if pad_to is not None:
        padding = pad_to - len(data.encode()) - 2
        assert padding >= 0
        data += "#" + "x" * padding + "\n"
        assert len(data.encode()) == pad_to
    return stack_resource(RULE_GROUP_NAMESPACE, name, {"name": name, "data": data})


def component(**quotas: dict[str, Any]) -> Any:
    return stack_resource(ALERT_RULES_COMPONENT, "alert-rules", {"quotas": quotas})


def reported(validate: Any, *resources: Any) -> list[str]:
    found: list[str] = []
    validate(StackValidationArgs(list(resources)), lambda message, urn=None: found.append(message))
    return found


def test_the_packs_defaults_are_amps_and_the_config_defaults() -> None:
    assert DEFAULT_LIMITS == {
        "rulesPerWorkspace": core.AMP_RULES_PER_WORKSPACE,
        "namespaceBytes": core.AMP_NAMESPACE_BYTES,
        "rulesPerGroup": core.MAX_RULES_PER_GROUP,
        "activeAlerts": core.AMP_ACTIVE_ALERTS,
        "aggregationGroups": core.AMP_AGGREGATION_GROUPS,
    }
    quotas = core.AmpQuotas()
    assert (quotas.rules_per_workspace, quotas.namespace_bytes, quotas.active_alerts) == (2000, 1_000_000, 1000)


# --- rules per workspace: 2,000 ----------------------------------------------------------------------------


def test_exactly_2000_rules_in_the_workspace_pass() -> None:
    groups = [namespace(f"ns{i}", {f"g{i}": 40}) for i in range(50)]  # 50 x 40 = 2,000
    assert reported(amp_rule_quotas, *groups) == []


def test_2001_rules_are_refused_with_the_count_the_quota_and_the_fix() -> None:
    groups = [namespace(f"ns{i}", {f"g{i}": 40}) for i in range(50)] + [namespace("one-more", {"g": 1})]
    (message,) = reported(amp_rule_quotas, *groups)
    assert "the plan uploads 2,001 rules to the workspace, over the 2,000 rules AMP allows" in message
    assert "monitoring:amp.quotas.rulesPerWorkspace" in message and "make cost STACK=dev" in message


def test_a_raised_rule_quota_lets_more_rules_through_and_still_stops_one_past_it() -> None:
    groups = [namespace(f"ns{i}", {f"g{i}": 50}) for i in range(50)]  # 2,500
    assert reported(amp_rule_quotas, component(rulesPerWorkspace={"limit": 2500}), *groups) == []
    (message,) = reported(amp_rule_quotas, component(rulesPerWorkspace={"limit": 2499}), *groups)
    assert "2,500 rules" in message and "over the 2,499 rules" in message


# --- bytes per namespace definition: 1 MB ------------------------------------------------------------------


def test_a_namespace_of_exactly_the_byte_limit_passes_and_one_byte_more_is_refused() -> None:
    assert reported(amp_rule_quotas, namespace("big", {"g": 1}, pad_to=1_000_000)) == []
    (message,) = reported(amp_rule_quotas, namespace("big", {"g": 1}, pad_to=1_000_001))
    assert "rule groups namespace 'big' is 1,000,001 bytes, over the 1,000,000 bytes" in message
    assert "monitoring:amp.quotas.namespaceBytes" in message


def test_bytes_are_counted_in_utf8_not_characters() -> None:
    resource = namespace("wide", {"g": 1}, pad_to=999_990)
    resource.props["data"] += "#" + "한" * 3 + "\n"  # 3 characters, 9 bytes: 999,990 + 11 bytes
    (message,) = reported(amp_rule_quotas, resource)
    assert "1,000,001 bytes" in message


# --- rules per group -------------------------------------------------------------------------------------------


def test_a_group_at_the_limit_passes_and_one_rule_more_is_refused() -> None:
    assert reported(amp_rule_quotas, namespace("ns", {"g": 100})) == []
    (message,) = reported(amp_rule_quotas, namespace("ns", {"g": 101}))
    assert "rule group 'g' of namespace 'ns' has 101 rules, over 100" in message


# --- the outage estimate: advisory ----------------------------------------------------------------------------


@pytest.mark.parametrize(("used", "warned"), [(1000, False), (1001, True)])
def test_a_whole_catalog_outage_over_1000_active_alerts_is_reported(used: int, warned: bool) -> None:
    quotas = {"used": used, "limit": 1000}
    found = reported(amp_alertmanager_outage_quotas, component(activeAlerts=quotas, aggregationGroups=quotas))
    assert len(found) == (2 if warned else 0)
    if warned:
        assert "up to 1,001 active alerts, over the 1,000" in found[0]
        assert "up to 1,001 alert aggregation groups, over the 1,000" in found[1]


# --- planted plans ---------------------------------------------------------------------------------------------


def _rule_count(plan: Plan) -> int:
    return sum(
        len(group["rules"])
        for resource in plan.of_type(RULE_GROUP_NAMESPACE)
        for group in yaml.safe_load(resource.inputs["data"])["groups"]
    )


def test_a_plan_over_the_stacks_rule_quota_is_refused_and_exactly_at_it_passes(plan_with: Any) -> None:
    rules = _rule_count(plan_with("dev"))
    at_limit = check_plan(plan_with("dev", {"monitoring:amp": {"quotas": {"rulesPerWorkspace": rules}}}))
    assert [v for v in at_limit.blocking if v.policy == "amp-rule-quotas"] == []
    over = check_plan(plan_with("dev", {"monitoring:amp": {"quotas": {"rulesPerWorkspace": rules - 1}}}))
    (violation,) = [v for v in over.blocking if v.policy == "amp-rule-quotas"]
    assert f"the plan uploads {rules:,} rules to the workspace, over the {rules - 1:,} rules" in violation.message


def test_a_plan_over_the_namespace_byte_quota_is_refused_and_exactly_at_it_passes(plan_with: Any) -> None:
    plan = plan_with("dev")
    largest = max(len(r.inputs["data"].encode()) for r in plan.of_type(RULE_GROUP_NAMESPACE))
    at_limit = check_plan(plan_with("dev", {"monitoring:amp": {"quotas": {"namespaceBytes": largest}}}))
    assert [v for v in at_limit.blocking if v.policy == "amp-rule-quotas"] == []
    over = check_plan(plan_with("dev", {"monitoring:amp": {"quotas": {"namespaceBytes": largest - 1}}}))
    (violation,) = [v for v in over.blocking if v.policy == "amp-rule-quotas"]
    assert f"is {largest:,} bytes, over the {largest - 1:,} bytes" in violation.message


def test_the_planned_usage_is_what_the_policy_measures(plan_with: Any) -> None:
    plan = plan_with("prod")
    (rules_component,) = plan.of_type(ALERT_RULES_COMPONENT)
    quotas = rules_component.inputs["quotas"]
    assert quotas["rulesPerWorkspace"]["used"] == _rule_count(plan)
    largest = max(len(r.inputs["data"].encode()) for r in plan.of_type(RULE_GROUP_NAMESPACE))
    assert quotas["namespaceBytes"]["used"] == largest
    assert quotas["activeAlerts"]["used"] <= quotas["activeAlerts"]["limit"]


def test_a_quota_of_zero_is_refused_by_the_config_model() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        core.AmpQuotas(rules_per_workspace=0)
