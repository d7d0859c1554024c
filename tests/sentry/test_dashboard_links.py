"""Grafana -> Sentry: the API dashboard's error panels open the backend's issues for what is on screen."""

from __future__ import annotations

from typing import Any

from dashboards import api
from dashboards.context import DashboardContext
from infra.config.stackfile import stack_settings


def panels_with_links(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {panel["title"]: panel["links"] for panel in model["panels"] if panel.get("links")}


def test_prod_5xx_panels_link_to_the_backend_project_for_prod_and_the_time_range() -> None:
    model = api.build(DashboardContext.from_settings(stack_settings("prod")))
    models = [panel for panel in model["panels"] if panel.get("links")]
    # The two 5xx panels (the stat and the graph), nothing else.
    assert [(p["title"], p["type"]) for p in models] == [("5xx ratio", "stat"), ("5xx ratio", "timeseries")]
    for panel in models:
        (link,) = panel["links"]
        # sentry.io's project page by slug (route /organizations/:orgId/projects/:projectId/), with
        # the page filters it reads: environment, start and end (Grafana expands __from/__to).
        assert link["url"] == (
            "https://sentry.io/organizations/screener/projects/screener-backend/"
            "?environment=prod&start=${__from:date:iso}&end=${__to:date:iso}"
        )
        assert link["targetBlank"] is True


def test_a_stack_without_error_tracking_has_no_sentry_links() -> None:
    assert panels_with_links(api.build(DashboardContext.from_settings(stack_settings("dev")))) == {}
