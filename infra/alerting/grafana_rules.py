"""Grafana-managed alert rules as data: the same labels and annotations as the AMP rules.

Grafana evaluates only what AMP cannot see about itself (AMP answering
Grafana at all), synthetic-check results and its own heartbeat. A rule is data
(`GrafanaRule`); `infra.components.grafana_rules.GrafanaRuleGroup` uploads a
group of them. Every rule gets `severity`, `service` and `env` labels and
`summary`, `description` and `runbook_url` annotations here, by the
conventions every alert shares (`conventions`). Every rule routes itself to its
own stack's contact points (`infra.components.grafana_rules.RuleRouting`); the
heartbeat alone has a route of its own (`DirectRoute`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from infra.alerting.conventions import (
    HEARTBEAT_GROUP_INTERVAL,
    HEARTBEAT_REPEAT_INTERVAL,
    Severity,
    check_alert_text,
    runbook_link,
)

Comparison = Literal["gt", "lt"]
NoDataState = Literal["NoData", "Alerting", "OK", "KeepLast"]
ErrorState = Literal["Error", "Alerting", "OK", "KeepLast"]

# Grafana's server-side expressions run on this pseudo data source.
EXPRESSION_DATASOURCE = "__expr__"
_RESERVED_LABELS = {"severity", "service", "env"}
# Grafana's limit on every UID, alert rules' included: at most 40 of [A-Za-z0-9_-]
# (grafana/grafana pkg/util/shortid_generator.go: MaxUIDLength, validUIDPattern).
RULE_UID_MAX_LENGTH = 40
_UID_DIGEST_LENGTH = 12


@dataclass(frozen=True)
class DirectRoute:
    """A rule's own route instead of its stack's alerting contact points, for the one rule that needs it.

    The heartbeat goes straight to its own contact point: the stack's routing
    repeats every few hours and mutes during maintenance, neither of which a
    heartbeat may do. Simplified routing is GA and on by default since
    Grafana 11 (grafana/grafana#84856).
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
    # None: one rule over every service, whose query gives each series its own `service` label.
    service: str | None
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
        check_alert_text(self.name, self.summary)
        if _RESERVED_LABELS & set(self.labels):
            raise ValueError(f"rule {self.name}: severity, service and env are set from fields, not extra labels")


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
    about = rule.name if rule.service is None else f"{rule.name}-{rule.service}"
    identity = f"{name_prefix}/{rule.name}" if rule.service is None else f"{name_prefix}/{rule.service}/{rule.name}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:_UID_DIGEST_LENGTH]
    # The environment is in the digest (and in the folder); the head shows what the rule is about.
    readable = re.sub(r"[^a-z0-9]+", "-", about.lower()).strip("-")
    return f"{readable[: RULE_UID_MAX_LENGTH - _UID_DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


def rule_labels(rule: GrafanaRule, environment: str) -> dict[str, str]:
    """The rule's static labels; a rule over every service leaves `service` to each series of its query."""
    labels = {**rule.labels, "severity": rule.severity, "env": environment}
    if rule.service is not None:
        labels["service"] = rule.service
    return dict(sorted(labels.items()))


def rule_annotations(rule: GrafanaRule, runbook_base_url: str) -> dict[str, str]:
    return {
        "description": rule.description,
        "runbook_url": runbook_link(runbook_base_url, rule.name),
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


# Grafana's dead man's switch (infra/components/grafana_heartbeat.py declares its webhook and alarm).
HEARTBEAT_RULE = "GrafanaHeartbeat"


def heartbeat_contact_point(name_prefix: str) -> str:
    return f"{name_prefix}-heartbeat"


def heartbeat_rule_group(datasource_uid: str, name_prefix: str) -> GrafanaRuleGroupSpec:
    """One rule that is firing whatever the data source answers: a value, no data or an error."""
    return GrafanaRuleGroupSpec(
        name="grafana-heartbeat",
        interval_seconds=60,
        rules=(
            GrafanaRule(
                name=HEARTBEAT_RULE,
                expr="vector(1)",
                comparison="gt",
                threshold=0,
                for_minutes=0,
                severity="none",
                service="monitoring",
                summary="Always firing: proves that Grafana evaluates rules and sends notifications.",
                description="The Grafana dead man's switch: it fires all the time; when its webhook calls stop, "
                "a CloudWatch alarm pages through the last-resort pipeline topic.",
                datasource_uid=datasource_uid,
                # A heartbeat must not depend on AMP answering (GrafanaAmpNoData reports that).
                no_data_state="Alerting",
                exec_err_state="Alerting",
                direct_route=DirectRoute(
                    contact_point=heartbeat_contact_point(name_prefix),
                    group_interval=HEARTBEAT_GROUP_INTERVAL,
                    repeat_interval=HEARTBEAT_REPEAT_INTERVAL,
                ),
            ),
        ),
    )
