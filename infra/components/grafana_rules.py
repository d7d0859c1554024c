"""Grafana-managed alert rules: the same labels and annotations as the AMP rules, always through the policy tree.

Grafana evaluates only what AMP cannot see about itself (AMP answering
Grafana at all) and, later, synthetic-check results. A rule is data
(`GrafanaRule`); `GrafanaRuleGroup` uploads a group of them into a folder.
Every rule gets `severity`, `service` and `env` labels and `summary`,
`description` and `runbook_url` annotations here, in one place, and none
gets per-rule notification settings: routing is the policy tree's job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumiverse_grafana as grafana

# "none": the heartbeat, which no person hears (like AMP's Watchdog).
Severity = Literal["critical", "warning", "none"]
Comparison = Literal["gt", "lt"]
NoDataState = Literal["NoData", "Alerting", "OK", "KeepLast"]
ErrorState = Literal["Error", "Alerting", "OK", "KeepLast"]

# Grafana's server-side expressions run on this pseudo data source.
EXPRESSION_DATASOURCE = "__expr__"
_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")
_RESERVED_LABELS = {"severity", "service", "env"}
# Grafana's limit on every UID, alert rules' included: at most 40 of [A-Za-z0-9_-]
# (grafana/grafana pkg/util/shortid_generator.go: MaxUIDLength, validUIDPattern).
RULE_UID_MAX_LENGTH = 40
RULE_UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_UID_DIGEST_LENGTH = 12


@dataclass(frozen=True)
class DirectRoute:
    """Rule-level routing (Grafana's simplified routing), for the one rule that must not use the policy tree.

    The heartbeat goes straight to its own contact point: the tree belongs to
    another stack, repeats every few hours and mutes during maintenance, none
    of which a heartbeat may do. Simplified routing is GA and on by default
    since Grafana 11 (grafana/grafana#84856).
    """

    contact_point: str
    group_interval: str
    repeat_interval: str
    group_wait: str = "0s"


@dataclass(frozen=True)
class GrafanaRule:
    """One Grafana-managed alert: an instant PromQL query compared with a threshold."""

    name: str  # CamelCase, like the AMP alerts; also the runbook anchor
    expr: str
    comparison: Comparison
    threshold: float
    for_minutes: int
    severity: Severity
    service: str
    summary: str
    description: str
    datasource_uid: str
    no_data_state: NoDataState = "NoData"
    exec_err_state: ErrorState = "Error"
    # How far back the query looks; Grafana runs it as an instant query at the end.
    lookback_seconds: int = 600
    labels: Mapping[str, str] = field(default_factory=dict)
    direct_route: DirectRoute | None = None

    def __post_init__(self) -> None:
        if not _ALERT_NAME.match(self.name):
            raise ValueError(f"Grafana rule name '{self.name}' is not CamelCase")
        if _RESERVED_LABELS & set(self.labels):
            raise ValueError(f"rule {self.name}: severity, service and env are set from fields, not extra labels")
        if "{{" in self.summary:
            raise ValueError(f"rule {self.name}: the summary is a static sentence; templates go in the description")


@dataclass(frozen=True)
class GrafanaRuleGroupSpec:
    name: str
    interval_seconds: int
    rules: tuple[GrafanaRule, ...]


def rule_uid(name_prefix: str, rule: GrafanaRule) -> str:
    """A stable UID from what names the rule: the environment's prefix, its service and its alert name.

    Explicit rather than generated, so a rule keeps its UID (and its history
    and silences) across updates, and renaming one service changes only that
    service's rules. The readable head may be cut to fit Grafana's 40
    characters; the digest of the whole identity keeps it unique in the org
    that every environment shares.
    """
    identity = f"{name_prefix}/{rule.service}/{rule.name}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:_UID_DIGEST_LENGTH]
    # The environment is in the digest (and in the folder); the head shows what the rule is about.
    readable = re.sub(r"[^a-z0-9]+", "-", f"{rule.name}-{rule.service}".lower()).strip("-")
    return f"{readable[: RULE_UID_MAX_LENGTH - _UID_DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


def runbook_url(runbook_base_url: str, rule_name: str) -> str:
    """Same anchor rule as the AMP alerts: one heading per alert, GitHub's lower-case anchor."""
    return f"{runbook_base_url}#{rule_name.lower()}"


def rule_labels(rule: GrafanaRule, environment: str) -> dict[str, str]:
    return dict(sorted({**rule.labels, "severity": rule.severity, "service": rule.service, "env": environment}.items()))


def rule_annotations(rule: GrafanaRule, runbook_base_url: str) -> dict[str, str]:
    return {
        "description": rule.description,
        "runbook_url": runbook_url(runbook_base_url, rule.name),
        "summary": rule.summary,
    }


def query_model(rule: GrafanaRule) -> str:
    return json.dumps(
        {"refId": "A", "expr": rule.expr, "instant": True, "range": False, "intervalMs": 1000, "maxDataPoints": 43200},
        sort_keys=True,
    )


def threshold_model(rule: GrafanaRule) -> str:
    return json.dumps(
        {
            "refId": "B",
            "type": "threshold",
            "expression": "A",
            "datasource": {"type": EXPRESSION_DATASOURCE, "uid": EXPRESSION_DATASOURCE},
            "conditions": [{"evaluator": {"type": rule.comparison, "params": [rule.threshold]}}],
        },
        sort_keys=True,
    )


def rule_args(
    rule: GrafanaRule, name_prefix: str, environment: str, runbook_base_url: str
) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        name=rule.name,
        uid=rule_uid(name_prefix, rule),
        condition="B",
        for_=f"{rule.for_minutes}m",
        no_data_state=rule.no_data_state,
        exec_err_state=rule.exec_err_state,
        labels=rule_labels(rule, environment),
        annotations=rule_annotations(rule, runbook_base_url),
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id="A",
                datasource_uid=rule.datasource_uid,
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=rule.lookback_seconds, to=0
                ),
                model=query_model(rule),
            ),
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id="B",
                datasource_uid=EXPRESSION_DATASOURCE,
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(from_=0, to=0),
                model=threshold_model(rule),
            ),
        ],
        # Only the heartbeat routes itself: any other rule with its own contact
        # point would bypass the policy tree, its grouping and the maintenance mute timing.
        notification_settings=_direct_route(rule.direct_route),
    )


def _direct_route(route: DirectRoute | None) -> grafana.alerting.RuleGroupRuleNotificationSettingsArgs | None:
    if route is None:
        return None
    return grafana.alerting.RuleGroupRuleNotificationSettingsArgs(
        contact_point=route.contact_point,
        # Grafana requires these two whenever a rule groups its own notifications.
        group_bies=["alertname", "grafana_folder"],
        group_wait=route.group_wait,
        group_interval=route.group_interval,
        repeat_interval=route.repeat_interval,
    )


@dataclass
class GrafanaRuleGroupArgs:
    folder_uid: pulumi.Input[str]
    group: GrafanaRuleGroupSpec
    name_prefix: str
    environment: str
    runbook_base_url: str
    provider: grafana.Provider


class GrafanaRuleGroup(pulumi.ComponentResource):
    """One Grafana rule group in the environment's folder."""

    def __init__(self, name: str, args: GrafanaRuleGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaRuleGroup", name, None, opts)
        names = [rule.name for rule in args.group.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"Grafana rule group '{args.group.name}' repeats a rule name: {names}")
        self.group = grafana.alerting.RuleGroup(
            f"{name}-group",
            name=args.group.name,
            folder_uid=args.folder_uid,
            interval_seconds=args.group.interval_seconds,
            rules=[
                rule_args(rule, args.name_prefix, args.environment, args.runbook_base_url) for rule in args.group.rules
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.register_outputs({"name": self.group.name})


def amp_health_rules(datasource_uid: str, no_data_for_minutes: int) -> GrafanaRuleGroupSpec:
    """What only Grafana can see: the AMP data source answering at all."""
    return GrafanaRuleGroupSpec(
        name="amp-data-source",
        interval_seconds=60,
        rules=(
            GrafanaRule(
                name="GrafanaAmpNoData",
                expr="count(up)",
                comparison="lt",
                threshold=1,
                for_minutes=no_data_for_minutes,
                severity="critical",
                service="monitoring",
                summary="Grafana gets no data at all from the AMP workspace.",
                description=(
                    "Querying `count(up)` through the AMP data source has returned nothing or failed for "
                    f"{no_data_for_minutes} minutes: every dashboard is blank. Either no collector writes to the "
                    "workspace (AMP's own MetricsNotArriving fires too) or Grafana cannot query it (the assume-role "
                    "trust, the query policy or the plugin broke)."
                ),
                datasource_uid=datasource_uid,
                # No series and a failing query mean the same thing here: blind.
                no_data_state="Alerting",
                exec_err_state="Alerting",
            ),
        ),
    )
