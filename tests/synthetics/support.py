"""Shared helpers of the synthetics tests: the planned checks, rules and the status page of a stack."""

from __future__ import annotations

from typing import Any

from planner.engine import Plan, PlannedResource

CHECK = "grafana:syntheticMonitoring/check:Check"
COMPONENT = "monitoring:index:SyntheticChecks"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
RULE_COMPONENT = "monitoring:index:GrafanaRuleGroup"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
PUBLIC_DASHBOARD = "grafana:oss/dashboardPublic:DashboardPublic"
PROVIDER = "pulumi:providers:grafana"
TOKEN_KEY = "monitoring:syntheticMonitoringToken"


def checks_by_job(plan: Plan) -> dict[str, PlannedResource]:
    return {check.inputs["job"]: check for check in plan.of_type(CHECK)}


def http(check: PlannedResource) -> dict[str, Any]:
    settings = check.inputs["settings"]
    assert set(settings) == {"http"}, settings  # exactly one kind of check
    return dict(settings["http"])


def synthetic_rule_groups(plan: Plan) -> dict[str, PlannedResource]:
    return {group.inputs["name"]: group for group in plan.of_type(RULE_GROUP) if group.name.startswith("synthetics-")}
