"""Dashboards: every panel queries AMP through `$datasource` with PromQL that parses and names real series."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import uptime
from dashboards.context import AMP_DATASOURCE_TYPE, DashboardContext
from dashboards.registry import DASHBOARDS, build_all
from infra.alerting.rules import render_rule_files
from infra.config.stackfile import stack_settings
from infra.config.synthetics import SM_DATASOURCE_TYPE, SM_DATASOURCE_UID
from infra.metrics import known_series_names
from infra.promql import series_names, substitute_variables
from tests.conftest import STACKS
from tests.grafana.stacks import context_of

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


def recorded_series(stack: str) -> frozenset[str]:
    """Names the stack's rendered rule files record (what AMP will evaluate)."""
    names: set[str] = set()
    for text in render_rule_files(stack_settings(stack)).values():
        for group in yaml.safe_load(text)["groups"]:
            names.update(rule["record"] for rule in group["rules"] if "record" in rule)
    return frozenset(names)


def allowed_series(stack: str) -> frozenset[str]:
    return known_series_names() | recorded_series(stack)


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_panel_has_a_query(stack: str, slug: str, model: dict[str, Any]) -> None:
    found = list(panels(model))
    assert found, f"{slug} has no panels"
    for panel in found:
        exprs = [target.get("expr", "") for target in panel.get("targets", [])]
        assert exprs and all(expr.strip() for expr in exprs), f"{slug}/{panel['title']} has no query"


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_query_of_a_panel_has_its_own_ref_id(stack: str, slug: str, model: dict[str, Any]) -> None:
    """Grafana names a panel's queries by refId and keeps one result per refId (a second query with
    the same refId replaces the first); the dashboards set them A, B, C... in order (dashboards/common.py)."""
    for panel in panels(model):
        refs = [target.get("refId") for target in panel["targets"]]
        assert all(refs) and len(set(refs)) == len(refs), f"{slug}/{panel['title']}: refIds {refs}"


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_expression_parses_and_names_only_known_series(stack: str, slug: str, model: dict[str, Any]) -> None:
    allowed = allowed_series(stack)
    for panel in panels(model):
        for target in panel["targets"]:
            names = series_names(target["expr"])
            assert names, f"{slug}/{panel['title']}: no series in {target['expr']!r}"
            unknown = names - allowed
            assert not unknown, f"{slug}/{panel['title']}: unknown series {sorted(unknown)}"


def datasource_of(stack: str, slug: str) -> tuple[str, str]:
    """(type, default UID) of the data source a dashboard's `$datasource` selects.

    Synthetic Monitoring results live in Grafana Cloud's own Prometheus; everything else in AMP.
    """
    if slug == uptime.SLUG:
        return SM_DATASOURCE_TYPE, SM_DATASOURCE_UID
    return AMP_DATASOURCE_TYPE, f"screener-{stack}-amp"


@pytest.mark.parametrize(("stack", "slug", "model"), CASES)
def test_every_panel_and_query_reads_from_the_datasource_variable(stack: str, slug: str, model: dict[str, Any]) -> None:
    source_type, default_uid = datasource_of(stack, slug)
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == source_type
    assert variables["datasource"]["current"]["value"] == default_uid
    expected = {"type": source_type, "uid": "${datasource}"}
    for panel in panels(model):
        assert panel["datasource"] == expected, panel["title"]
        assert all(target["datasource"] == expected for target in panel["targets"]), panel["title"]
    if source_type == AMP_DATASOURCE_TYPE:
        for name in ("env", "service"):
            assert variables[name]["datasource"] == expected, name
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == expected, variable["name"]


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


def test_panel_ids_are_unique_and_numbered_in_reading_order() -> None:
    for _, slug, model in all_dashboards():
        ids = [panel["id"] for panel in model["panels"]]
        assert ids == list(range(1, len(ids) + 1)), slug


def _panel(model: dict[str, Any], title: str) -> dict[str, Any]:
    return next(panel for panel in panels(model) if panel["title"] == title)


def _steps(panel: dict[str, Any]) -> dict[str, float | None]:
    """Threshold colour -> the value it starts at."""
    return {step["color"]: step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]}


def test_latency_and_error_thresholds_follow_the_stack_thresholds() -> None:
    settings = stack_settings("dev")
    changed = {"p95_latency_ms": 750, "p95_latency_critical_ms": 3000, "error_ratio_percent": 2}
    custom = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(update=changed)})
    model = build_all(DashboardContext.from_settings(custom))["api"]
    assert _steps(_panel(model, "p95 latency")) == {"green": None, "yellow": 0.75, "red": 3.0}
    assert _steps(_panel(model, "5xx ratio")) == {
        "green": None,
        "yellow": 0.02,
        "red": settings.thresholds.error_ratio_critical_percent / 100,
    }
    default = build_all(context_of("dev"))["api"]
    assert _steps(_panel(default, "p95 latency"))["yellow"] == settings.thresholds.p95_latency_ms / 1000


def test_hit_ratio_and_disk_panels_turn_red_below_their_thresholds() -> None:
    settings = stack_settings("prod")
    boards = build_all(context_of("prod"))
    hit = _steps(_panel(boards["cache"], "Hit ratio (10 min)"))
    assert hit["red"] is None and hit["yellow"] == settings.thresholds.cache_hit_ratio_percent / 100
    disk = _steps(_panel(boards["system"], "Lowest node disk free"))
    assert disk == {
        "red": None,
        "yellow": settings.thresholds.disk_free_critical_percent / 100,
        "green": settings.thresholds.disk_free_percent / 100,
    }


def test_service_variable_defaults_to_the_catalogs_api_services() -> None:
    model = build_all(context_of("prod"))["api"]
    service = next(v for v in model["templating"]["list"] if v["name"] == "service")
    assert service["current"]["value"] == ["api"]
    assert service["query"] == 'label_values(http_requests_total{env=~"$env"}, service)'


def test_an_unknown_metric_name_is_caught() -> None:
    assert series_names('sum(rate(http_request_total{env=~"$env"}[$__rate_interval]))') - allowed_series("dev") == {
        "http_request_total"
    }


def test_dashboards_read_the_slo_recordings_that_the_rule_files_define() -> None:
    recorded = recorded_series("prod")
    used = {
        name
        for model in build_all(context_of("prod")).values()
        for panel in panels(model)
        for target in panel["targets"]
        for name in series_names(target["expr"])
        if ":" in name
    }
    assert {"service:http_requests:error_ratio_rate5m", "slo:objective:ratio"} <= used
    assert used <= recorded


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_itself_accepts_every_dashboard_expression(stack: str, tmp_path: Path) -> None:
    """promtool parses each query with Prometheus's own parser (as a recording rule per query)."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `make tools` (installs Debian's prometheus package)"
    rules = [
        {"record": f"dashboard:query_{index}:check", "expr": substitute_variables(expr)}
        for index, expr in enumerate(
            target["expr"]
            for model in build_all(context_of(stack)).values()
            for panel in panels(model)
            for target in panel["targets"]
        )
    ]
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
