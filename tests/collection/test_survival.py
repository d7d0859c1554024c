"""Every series a dashboard or rule reads survives the collector's keep-lists.

The keep-lists drop everything the catalog does not list; this proves the
opposite direction: nothing that is read gets dropped. Queries come from
the plans themselves (rule groups uploaded to AMP, dashboards uploaded to
Grafana), so new rules and dashboards are checked as soon as they land.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from infra.metrics import (
    RULE_ENGINE,
    SCRAPE,
    SCRAPED_BY_SOURCE,
    SYNTHETIC_MONITORING,
    known_series_names,
    scraped_series_names,
)
from infra.promql import series_names
from planner.engine import Plan
from tests.collection.helpers import jobs, keep_regex, scrape_config
from tests.conftest import STACKS, plan_of

RULE_GROUPS = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
DASHBOARD_TYPES = ("grafana:oss/dashboard:Dashboard", "grafana:index/dashboard:Dashboard")
COLLECTING_STACKS = ("staging", "prod")
# Series no scrape job delivers: synthesized per target (up, scrape_*), made by
# the rule engine, or written by Grafana synthetic monitoring to Grafana Cloud.
NOT_SCRAPED = frozenset(
    name for metrics in (SCRAPE, RULE_ENGINE, SYNTHETIC_MONITORING) for m in metrics for name in m.series_names
)
# Recording rules are named level:metric:operations; no raw series name has a colon.
RECORDED = re.compile(r".*:.*")


def _source_of(name: str) -> str | None:
    return next(
        (source for source, metrics in SCRAPED_BY_SOURCE.items() for m in metrics if name in m.series_names), None
    )


@functools.cache
def _job_for(stack: str, source: str) -> dict[str, Any] | None:
    for job in jobs(scrape_config(plan_of(stack))).values():
        rule = job["metric_relabel_configs"][0]
        if set(rule["regex"].split("|")) == scraped_series_names(source):
            return job
    return None


@functools.cache
def _keep_regex_for(stack: str, source: str) -> re.Pattern[str] | None:
    job = _job_for(stack, source)
    return keep_regex(job) if job is not None else None


def _survives(stack: str, name: str) -> bool:
    source = _source_of(name)
    keep = _keep_regex_for(stack, source) if source else None
    return keep is not None and keep.match(name) is not None


def _dashboard_exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for target in node.get("targets", []) or []:
            if isinstance(target, dict) and isinstance(target.get("expr"), str):
                yield target["expr"]
        for key, value in node.items():
            if key != "targets":
                yield from _dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_exprs(item)


def queries_of(plan: Plan) -> tuple[list[str], set[str]]:
    """(PromQL expressions, recording-rule names) that the plan uploads."""
    exprs: list[str] = []
    recorded: set[str] = set()
    for namespace in plan.of_type(RULE_GROUPS):
        for group in yaml.safe_load(namespace.inputs["data"]).get("groups", []):
            for rule in group.get("rules", []):
                exprs.append(rule["expr"])
                if "record" in rule:
                    recorded.add(rule["record"])
    for token in DASHBOARD_TYPES:
        for dashboard in plan.of_type(token):
            exprs.extend(_dashboard_exprs(json.loads(dashboard.inputs["configJson"])))
    return exprs, recorded


def test_series_names_are_read_from_promql_with_grafana_variables() -> None:
    expr = 'sum by (service) (rate(http_requests_total{service=~"$service"}[$__rate_interval])) / ignoring() up'
    assert series_names(expr) == {"http_requests_total", "up"}


@pytest.mark.parametrize("stack", COLLECTING_STACKS)
def test_every_catalog_series_survives_its_jobs_keep_list(stack: str) -> None:
    scraped = known_series_names() - NOT_SCRAPED
    # The managed scraper has no agent of its own to report on.
    expected_missing = {n for n in scraped if _source_of(n) == "collector"} if stack == "prod" else set()
    dropped = {name for name in scraped if not _survives(stack, name)}
    assert dropped == expected_missing


@pytest.mark.parametrize("stack", COLLECTING_STACKS)
def test_every_series_a_rule_or_dashboard_reads_survives_the_keep_lists(stack: str) -> None:
    used: dict[str, set[str]] = {}
    recorded: set[str] = set()
    for plan in (plan_of(s) for s in STACKS):
        exprs, plan_recorded = queries_of(plan)
        recorded |= plan_recorded
        for expr in exprs:
            for name in series_names(expr):
                used.setdefault(name, set()).add(expr)
    raw = {n for n in used if n not in recorded and not RECORDED.fullmatch(n) and n not in NOT_SCRAPED}
    assert raw, "no query found in the plans: the check would pass vacuously"
    unknown = sorted(n for n in raw if n not in known_series_names())
    assert unknown == [], f"queries read series outside the metric catalog: {unknown}"
    dropped = sorted(
        n for n in raw if not _survives(stack, n) and not (stack == "prod" and _source_of(n) == "collector")
    )
    assert dropped == [], f"{stack} drops series that queries read: {dropped}"
