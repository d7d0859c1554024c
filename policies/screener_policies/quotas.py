"""AMP's rule and Alertmanager quotas, checked on the plan before anything is uploaded.

AMP's defaults per workspace (Amazon Managed Service for Prometheus service quotas,
https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html): 2,000 rules,
1 MB per rule groups namespace definition, 1,000 active alerts and 1,000 alert
aggregation groups per alert manager. Over the first two, AMP refuses the
upload; over the last two, it drops alerts in the very outage they report
(and logs it to the workspace's vended log group, which the program alarms on).

- amp-rule-quotas (mandatory): measures the rule groups namespaces the plan
  uploads (rules in the workspace, bytes of each definition, rules of each
  group) against the limits the program declared on its `AlertRules`
  component (`monitoring:amp.quotas`, AMP's defaults unless the account's
  quotas were raised); without that component, AMP's defaults.
- amp-alertmanager-outage-quotas (advisory): the program's worst-case count
  of active alerts and aggregation groups if every service of the catalog
  failed at once (infra/alerting/quotas.py), against the same component's
  limits. Advisory: an estimate, and what it risks is alerts dropped during a
  catastrophe, which AMP logs and the program alarms on, not a failed deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from screener_policies.common import as_list, is_mapping, stack_of

RULE_GROUP_NAMESPACE = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
ALERT_RULES_COMPONENT = "monitoring:index:AlertRules"
# AMP's defaults (kept equal to infra/config/core.py's by a test: the pack cannot import infra).
DEFAULT_LIMITS = {
    "rulesPerWorkspace": 2000,
    "namespaceBytes": 1_000_000,
    "rulesPerGroup": 100,
    "activeAlerts": 1000,
    "aggregationGroups": 1000,
}
_SETTING = "monitoring:amp.quotas"


def _declared(args: StackValidationArgs) -> tuple[Mapping[str, Any], str | None]:
    """The quota summary the program declared on its AlertRules component, and that component's URN."""
    for resource in args.resources:
        if resource.resource_type == ALERT_RULES_COMPONENT:
            quotas = resource.props.get("quotas")
            return (quotas if is_mapping(quotas) else {}), resource.urn
    return {}, None


def _count(value: object) -> int | None:
    """A whole number as the engine hands it over (Pulumi's property values carry numbers as floats)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return None


def _limit(declared: Mapping[str, Any], name: str) -> int:
    entry = declared.get(name)
    limit = _count(entry.get("limit")) if is_mapping(entry) else None
    return limit if limit is not None and limit > 0 else DEFAULT_LIMITS[name]


def _fix(urn: str, setting: str) -> str:
    return (
        f"Fix: see the numbers with `make cost STACK={stack_of(urn)}`; write fewer rules per service (one rule per "
        f"alert family over every service, per-service values as recorded data), or, after Service Quotas raised "
        f"this account's quota, set {_SETTING}.{setting} in the stack file."
    )


def amp_rule_quotas(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    declared, component = _declared(args)
    rules_limit, bytes_limit, group_limit = (
        _limit(declared, name) for name in ("rulesPerWorkspace", "namespaceBytes", "rulesPerGroup")
    )
    total = 0
    first_urn = None
    for resource in args.resources:
        if resource.resource_type != RULE_GROUP_NAMESPACE:
            continue
        first_urn = first_urn or resource.urn
        name = resource.props.get("name") or resource.name
        data = resource.props.get("data")
        if not isinstance(data, str):
            continue  # rule-data-parses reports a namespace without data
        size = len(data.encode())
        if size > bytes_limit:
            report_violation(
                f"rule groups namespace '{name}' is {size:,} bytes, over the {bytes_limit:,} bytes AMP accepts for "
                f"one namespace definition (AMP service quotas). {_fix(resource.urn, 'namespaceBytes')}",
                resource.urn,
            )
        try:
            document = yaml.safe_load(data)
        except yaml.YAMLError:
            continue  # rule-data-parses reports it
        groups = document.get("groups") if is_mapping(document) else None
        for group in as_list(groups):
            if not is_mapping(group):
                continue
            rules = len(as_list(group.get("rules")))
            total += rules
            if rules > group_limit:
                report_violation(
                    f"rule group '{group.get('name')}' of namespace '{name}' has {rules:,} rules, "
                    f"over {group_limit:,}: AMP evaluates a group's rules one after the other within one "
                    "evaluation interval. "
                    f"{_fix(resource.urn, 'rulesPerGroup')}",
                    resource.urn,
                )
    if total > rules_limit:
        urn = component or first_urn or ""
        report_violation(
            f"the plan uploads {total:,} rules to the workspace, over the {rules_limit:,} rules AMP allows per "
            f"workspace (AMP service quotas): the upload fails. {_fix(urn, 'rulesPerWorkspace')}",
            urn,
        )


def amp_alertmanager_outage_quotas(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    declared, component = _declared(args)
    if component is None:
        return  # nothing declares alert rules: no alert to count
    for name, what in (("activeAlerts", "active alerts"), ("aggregationGroups", "alert aggregation groups")):
        entry = declared.get(name)
        used = _count(entry.get("used")) if is_mapping(entry) else None
        if used is None:
            continue
        limit = _limit(declared, name)
        if used > limit:
            report_violation(
                f"a whole-catalog outage would raise up to {used:,} {what}, over the {limit:,} AMP's alert manager "
                "holds (AMP service quotas): past it AMP drops alerts and logs it to the workspace's vended log group "
                f"(alarmed: docs/runbooks.md#ampalertmanagertoomanyalerts). {_fix(component, name)}",
                component,
            )


POLICIES = [
    StackValidationPolicy(
        name="amp-rule-quotas",
        description="The rule groups namespaces fit AMP's quotas: rules per workspace, bytes per namespace "
        "definition, rules per group (monitoring:amp.quotas; AMP's defaults: 2,000 rules, 1 MB).",
        validate=amp_rule_quotas,
    ),
    StackValidationPolicy(
        name="amp-alertmanager-outage-quotas",
        description="A whole-catalog outage stays within AMP's alert manager quotas: 1,000 active alerts and 1,000 "
        "aggregation groups by default (monitoring:amp.quotas).",
        validate=amp_alertmanager_outage_quotas,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
