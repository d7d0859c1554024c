"""How much of AMP's rule and Alertmanager quotas a stack uses, before anything is uploaded.

Per AMP workspace (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html):
2,000 rules, 1 MB per rule groups namespace definition, 1,000 active alerts and
1,000 alert aggregation groups per alert manager; `monitoring:amp.quotas` holds
the account's own numbers when Service Quotas raised them. The rule side is
measured on the rendered files; the Alertmanager side is the worst case of a
whole-catalog outage: every alert rule firing for every service it covers.

A family rule (one rule over every service of a kind) covers the services of
the kinds whose series it reads, through the recordings it reads
(`application` series: the API services, `postgres_exporter`: PostgreSQL,
...); a rule that reads only `up` covers every monitored service; cluster
series (kube-state-metrics, cAdvisor, kubelet) count one workload per scraped
service; node series count the nodes the cost model assumes; a rule with a
static `service` label is one alert. Severity twins both count: AMP counts an
inhibited alert as active. Alerts that split a service further (per pod,
queue or database) count once per service, so the estimate is a floor for
them. Alertmanager groups by (alertname, service, severity)
(`conventions.GROUP_BY`), so each alert of a service is its own aggregation
group and the two estimates agree.

`make cost` prints this; the program hands it to the policies on the
`AlertRules` component (policies/screener_policies/quotas.py), which measure
the uploaded namespaces themselves and compare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.alerting.rule_availability import monitored_service_names
from infra.alerting.rule_model import Alert, Recording, RuleNamespace
from infra.alerting.rules import RuleFiles
from infra.alerting.time_scale import render_expr
from infra.config import StackInput
from infra.config.core import EXPORTER_BY_KIND
from infra.config.label_values import LABEL_VALUES
from infra.metrics import SCRAPE, SCRAPED_BY_SOURCE

_KIND_BY_SOURCE = {source: kind for kind, source in EXPORTER_BY_KIND.items()}
_CLUSTER_SOURCES = {"kube-state-metrics", "cadvisor", "kubelet"}
_NODE_SOURCES = {"node_exporter"}
# Series name -> the scrape source that writes it (the keys of EXPORTER_BY_KIND), or "scrape" for `up`.
_SOURCE_BY_SERIES = {
    **{name: source for source, metrics in SCRAPED_BY_SOURCE.items() for m in metrics for name in m.series_names},
    **{name: "scrape" for metric in SCRAPE for name in metric.series_names},
}

# Read lexically, not with promql_parser: its tree walk takes minutes on a rule that joins a few thousand
# label_replace terms (the catalog, a workload mapping), and this needs only the metric names a rule names.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (identifiers that are neither functions, keywords nor labels)."""
    text = _LABEL_LIST.sub(" ", _MATCHERS.sub(" ", _STRING.sub('""', expr)))
    return {
        name
        for name, call in _IDENTIFIER.findall(text)
        if not call and name not in _KEYWORDS and not name.startswith("__")
    }


@dataclass(frozen=True)
class Check:
    """One quota: what is counted, how much the stack uses, the limit and the config key that raises it."""

    name: str
    used: int
    limit: int
    where: str  # which namespace or group is the largest, when that matters
    setting: str

    @property
    def within(self) -> bool:
        return self.used <= self.limit


@dataclass(frozen=True)
class QuotaUsage:
    rules: Check
    namespace_bytes: Check
    rules_per_group: Check
    active_alerts: Check
    aggregation_groups: Check

    @property
    def checks(self) -> tuple[Check, ...]:
        return (self.rules, self.namespace_bytes, self.rules_per_group, self.active_alerts, self.aggregation_groups)

    def summary(self) -> dict[str, Any]:
        """The usage as plain data: the inputs of the `AlertRules` component, which the policies read."""
        return {
            check.name: {"used": check.used, "limit": check.limit, "where": check.where, "setting": check.setting}
            for check in self.checks
        }


class _Sources:
    """The raw series sources an expression reads, through the recordings it reads (each resolved once)."""

    def __init__(self, recordings: Mapping[str, list[str]]) -> None:
        self._recordings = recordings
        self._resolved: dict[str, frozenset[str]] = {}

    def of_record(self, record: str) -> frozenset[str]:
        if record not in self._resolved:
            self._resolved[record] = frozenset()  # a recording that read itself would stop here
            self._resolved[record] = frozenset().union(*(self.of(expr) for expr in self._recordings[record]))
        return self._resolved[record]

    def of(self, expr: str) -> frozenset[str]:
        found: set[str] = set()
        for name in metric_names(expr):
            if name in self._recordings:
                found |= self.of_record(name)
            elif name in _SOURCE_BY_SERIES:
                found.add(_SOURCE_BY_SERIES[name])
        return frozenset(found)


def alert_instances(settings: StackInput, namespaces: tuple[RuleNamespace, ...]) -> dict[tuple[str, str], int]:
    """(alert name, severity) -> how many alerts it raises if everything it covers fails at once."""
    recordings: dict[str, list[str]] = {}
    for namespace in namespaces:
        for rule in namespace.rules:
            if isinstance(rule, Recording):
                recordings.setdefault(rule.record, []).append(render_expr(rule.expr))
    by_kind: dict[str, int] = {}
    for service in settings.services:
        if service.scrape:
            by_kind[service.kind] = by_kind.get(service.kind, 0) + 1
    sources_of = _Sources(recordings)
    monitored = len(monitored_service_names(settings))
    scraped = sum(by_kind.values())
    overrides = settings.cost.label_values if settings.cost else {}
    nodes = overrides.get("node", LABEL_VALUES["node"].count)
    instances: dict[tuple[str, str], int] = {}
    for namespace in namespaces:
        for rule in namespace.rules:
            if not isinstance(rule, Alert):
                continue
            if rule.service is not None:
                count = 1
            else:
                sources = sources_of.of(render_expr(rule.expr))
                kinds = {_KIND_BY_SOURCE[source] for source in sources if source in _KIND_BY_SOURCE}
                if kinds:
                    count = sum(by_kind.get(kind, 0) for kind in kinds)
                elif "scrape" in sources:
                    count = monitored
                elif sources & _CLUSTER_SOURCES:
                    count = scraped
                elif sources & _NODE_SOURCES:
                    count = nodes
                else:
                    count = 1
            key = (rule.name, rule.severity)
            instances[key] = instances.get(key, 0) + count
    return instances


def quota_usage(settings: StackInput, files: RuleFiles) -> QuotaUsage:
    """The stack's use of each quota, from its rendered rule files (and the rules they were rendered from)."""
    quotas = settings.amp.quotas
    sizes = {name: len(text.encode()) for name, text in files.items()}
    groups = {
        f"{name}/{group['name']}": len(group["rules"])
        for name, document in files.documents.items()
        for group in document["groups"]
    }
    largest_namespace = max(sizes, key=lambda name: sizes[name], default="")
    largest_group = max(groups, key=lambda name: groups[name], default="")
    outage = sum(alert_instances(settings, files.namespaces).values())
    key = "monitoring:amp.quotas"
    return QuotaUsage(
        rules=Check(
            "rulesPerWorkspace", sum(groups.values()), quotas.rules_per_workspace, "", f"{key}.rulesPerWorkspace"
        ),
        namespace_bytes=Check(
            "namespaceBytes",
            sizes.get(largest_namespace, 0),
            quotas.namespace_bytes,
            largest_namespace,
            f"{key}.namespaceBytes",
        ),
        rules_per_group=Check(
            "rulesPerGroup", groups.get(largest_group, 0), quotas.rules_per_group, largest_group, f"{key}.rulesPerGroup"
        ),
        active_alerts=Check(
            "activeAlerts", outage, quotas.active_alerts, "whole-catalog outage", f"{key}.activeAlerts"
        ),
        aggregation_groups=Check(
            "aggregationGroups", outage, quotas.aggregation_groups, "whole-catalog outage", f"{key}.aggregationGroups"
        ),
    )


def report_lines(usage: QuotaUsage) -> list[str]:
    """What `make cost` prints: each quota, used against its limit."""
    lines = ["\nAMP quotas (used / limit; raise a limit in monitoring:amp.quotas after Service Quotas raised it):"]
    for check in usage.checks:
        where = f" ({check.where})" if check.where else ""
        verdict = "ok" if check.within else "OVER"
        lines.append(f"  {check.name:20} {check.used:>10,} / {check.limit:>10,}  {verdict}{where}")
    return lines
