"""The uptime dashboard, and its public rendering published as the status page in prod only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboards.common import to_json
from dashboards.registry import build_all
from dashboards.uptime import build, build_status_page
from infra.config.stackfile import stack_settings
from infra.config.synthetics import SM_DATASOURCE_TYPE, SM_DATASOURCE_UID
from infra.metrics import known_series_names
from infra.promql import series_names
from planner.engine import Plan
from tests.conftest import STACKS, plan_of
from tests.grafana.stacks import context_of
from tests.grafana.test_dashboards import panels
from tests.synthetics.support import DASHBOARD, PUBLIC_DASHBOARD


def exprs(model: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(model) for target in panel["targets"]]


def test_only_prod_publishes_a_status_page(stack_plan: Plan) -> None:
    published = stack_settings(stack_plan.stack).synthetics.publish_status_page
    assert published is (stack_plan.stack == "prod")
    assert len(stack_plan.of_type(PUBLIC_DASHBOARD)) == int(published)
    assert ("status_page_url" in stack_plan.outputs) is published


def test_prod_status_page_is_public_protected_and_its_url_is_an_output() -> None:
    plan = plan_of("prod")
    public = plan.one(PUBLIC_DASHBOARD, "synthetics-status-public")
    page = plan.one(DASHBOARD, "synthetics-status")
    assert public.inputs["dashboardUid"] == "screener-prod-status" == json.loads(page.inputs["configJson"])["uid"]
    assert public.inputs["isEnabled"] is True and public.inputs["share"] == "public"
    assert public.inputs["annotationsEnabled"] is False
    # A replacement would mint a new access token, that is a new public URL.
    assert public.protect
    token = public.outputs["accessToken"]
    assert plan.outputs["status_page_url"] == f"https://screener.grafana.net/public-dashboards/{token}"
    assert page.inputs["folder"] == "screener-prod" and page.inputs["overwrite"] is True
    assert page.inputs["configJson"] == to_json(build_status_page(context_of("prod")))


@pytest.mark.parametrize("stack", STACKS)
def test_status_page_has_no_variables_and_names_the_synthetic_monitoring_source(stack: str) -> None:
    # Public dashboards cannot resolve template variables: every reference must be concrete.
    model = build_status_page(context_of(stack))
    assert model["templating"].get("list", []) == []
    assert model["refresh"] == "30s"
    fixed = {"type": SM_DATASOURCE_TYPE, "uid": SM_DATASOURCE_UID}
    for panel in panels(model):
        assert panel["datasource"] == fixed, panel["title"]
        assert all(target["datasource"] == fixed for target in panel["targets"]), panel["title"]
    assert not any("$" in expr.replace("$__", "") for expr in exprs(model))


@pytest.mark.parametrize("stack", STACKS)
def test_status_page_shows_the_same_panels_as_the_uptime_dashboard(stack: str) -> None:
    internal, public = build(context_of(stack)), build_status_page(context_of(stack))
    assert [p["title"] for p in panels(internal)] == [p["title"] for p in panels(public)]
    assert exprs(internal) == exprs(public)
    assert build_all(context_of(stack))["uptime"] == internal


def test_uptime_shows_availability_over_24h_7d_and_30d_and_latency_by_probe() -> None:
    model = build(context_of("prod"))
    by_title = {panel["title"]: panel for panel in panels(model)}
    for label, window in (("24 h", "24h"), ("7 d", "7d"), ("30 d", "30d")):
        (expr,) = [t["expr"] for t in by_title[f"Availability, last {label}"]["targets"]]
        assert expr == f'avg by (instance) (avg_over_time(probe_success{{job=~"screener-prod-.+"}}[{window}]))'
    latency = by_title["Response time by probe location"]["targets"][0]
    assert latency["expr"].startswith("avg by (instance, probe) (probe_duration_seconds{")
    for expr in exprs(model):
        assert series_names(expr) <= known_series_names(), expr
        assert 'job=~"screener-prod-.+"' in expr, expr


def test_availability_turns_red_below_the_slo_objective() -> None:
    model = build(context_of("prod"))
    panel = next(p for p in panels(model) if p["title"] == "Availability, last 30 d")
    steps = {s["color"]: s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]}
    objective = stack_settings("prod").slo.availability_percent / 100
    assert steps["red"] is None and steps["yellow"] == pytest.approx(objective)
    assert steps["green"] == pytest.approx(1 - (1 - objective) / 2)
