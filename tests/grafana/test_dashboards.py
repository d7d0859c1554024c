"""Dashboards: every panel queries AMP through `$datasource` with PromQL that parses and names real series."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.context import AMP_DATASOURCE_TYPE, DashboardContext
from dashboards.registry import DASHBOARDS, build_all
from infra.metrics import known_series_names
from tests.grafana.promql import series_names
from tests.grafana.stacks import STACKS, context_of, settings_of

DASHBOARD_TOKEN = "grafana:oss/dashboard:Dashboard"


def all_dashboards() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack in STACKS:
        for slug, model in build_all(context_of(stack)).items():
            yield stack, slug, model


def panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every non-row panel, including panels nested in collapsed rows."""
    for panel in model["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


CASES = [pytest.param(stack, slug, model, id=f"{stack}-{slug}") for stack, slug, model in all_dashboards()]


def allowed_series() -> frozenset[str]:
    return known_series_names()


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_panel_has_a_query(stack: str, slug: str, model: dict[str, Any]) -> None:
    found = list(panels(model))
    assert found, f"{slug} has no panels"
    for panel in found:
        exprs = [target.get("expr", "") for target in panel.get("targets", [])]
        assert exprs and all(expr.strip() for expr in exprs), f"{slug}/{panel['title']} has no query"


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_expression_parses_and_names_only_known_series(stack: str, slug: str, model: dict[str, Any]) -> None:
    allowed = allowed_series()
    for panel in panels(model):
        for target in panel["targets"]:
            names = series_names(target["expr"])
            assert names, f"{slug}/{panel['title']}: no series in {target['expr']!r}"
            unknown = names - allowed
            assert not unknown, f"{slug}/{panel['title']}: unknown series {sorted(unknown)}"


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_panel_and_query_reads_from_the_datasource_variable(stack: str, slug: str, model: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == AMP_DATASOURCE_TYPE
    assert variables["datasource"]["current"]["value"] == f"screener-{stack}-amp"
    expected = {"type": AMP_DATASOURCE_TYPE, "uid": "${datasource}"}
    for panel in panels(model):
        assert panel["datasource"] == expected, panel["title"]
        assert all(target["datasource"] == expected for target in panel["targets"]), panel["title"]
    for name in ("env", "service"):
        assert variables[name]["datasource"] == expected, name


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_refreshes_every_30_seconds_with_a_stable_uid(stack: str, slug: str, model: dict[str, Any]) -> None:
    assert model["refresh"] == "30s"
    assert model["uid"] == f"screener-{stack}-{slug}"
    assert len(model["uid"]) <= 40  # Grafana's UID limit


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_panel_says_what_it_shows_and_in_which_unit(stack: str, slug: str, model: dict[str, Any]) -> None:
    for panel in panels(model):
        assert panel.get("description", "").strip(), panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]


@pytest.mark.parametrize("stack", STACKS)
def test_uids_and_titles_are_unique_within_a_stack(stack: str) -> None:
    models = build_all(context_of(stack)).values()
    uids = [model["uid"] for model in models]
    titles = [model["title"] for model in models]
    assert len(set(uids)) == len(uids) == len(DASHBOARDS)
    assert len(set(titles)) == len(titles)


def test_building_twice_gives_the_same_json() -> None:
    first = json.dumps(build_all(context_of("prod")), sort_keys=True)
    assert json.dumps(build_all(context_of("prod")), sort_keys=True) == first


def test_panel_ids_are_unique_and_numbered_in_reading_order() -> None:
    for _, slug, model in all_dashboards():
        ids = [panel["id"] for panel in model["panels"]]
        assert ids == list(range(1, len(ids) + 1)), slug


def _panel(model: dict[str, Any], title: str) -> dict[str, Any]:
    return next(panel for panel in panels(model) if panel["title"] == title)


def _red_from(panel: dict[str, Any]) -> float:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return float(next(step["value"] for step in steps if step["color"] == "red"))


def test_latency_and_error_thresholds_follow_the_stack_thresholds() -> None:
    settings = settings_of("dev")
    custom = settings.model_copy(
        update={"thresholds": settings.thresholds.model_copy(update={"p95_latency_ms": 750, "error_ratio_percent": 2})}
    )
    model = build_all(DashboardContext.from_settings(custom))["api"]
    assert _red_from(_panel(model, "p95 latency")) == 0.75
    assert _red_from(_panel(model, "5xx ratio")) == 0.02
    default = build_all(context_of("dev"))["api"]
    assert _red_from(_panel(default, "p95 latency")) == settings.thresholds.p95_latency_ms / 1000


def test_service_variable_defaults_to_the_catalogs_api_services() -> None:
    model = build_all(context_of("prod"))["api"]
    service = next(v for v in model["templating"]["list"] if v["name"] == "service")
    assert service["current"]["value"] == ["api"]
    assert service["query"] == 'label_values(http_requests_total{env=~"$env"}, service)'


def test_an_unknown_metric_name_is_caught() -> None:
    assert series_names('sum(rate(http_request_total{env=~"$env"}[$__rate_interval]))') - allowed_series() == {
        "http_request_total"
    }
