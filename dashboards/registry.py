"""Every dashboard the program uploads, in folder order.

To add a dashboard: write a module with `SLUG`, `TITLE` and `build(ctx) -> dict`
and add one `DashboardSpec` line below. The component uploads each entry as
`<platform>-<env>-<slug>`; tests check every entry's panels and queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dashboards import api, business, cache, database, slo, system, uptime
from dashboards.context import DashboardContext


@dataclass(frozen=True)
class DashboardSpec:
    slug: str
    title: str
    build: Callable[[DashboardContext], dict[str, Any]]


DASHBOARDS: tuple[DashboardSpec, ...] = (
    DashboardSpec(api.SLUG, api.TITLE, api.build),
    DashboardSpec(database.SLUG, database.TITLE, database.build),
    DashboardSpec(cache.SLUG, cache.TITLE, cache.build),
    DashboardSpec(business.SLUG, business.TITLE, business.build),
    DashboardSpec(system.SLUG, system.TITLE, system.build),
    DashboardSpec(slo.SLUG, slo.TITLE, slo.build),
    DashboardSpec(uptime.SLUG, uptime.TITLE, uptime.build),
)


def build_all(ctx: DashboardContext) -> dict[str, dict[str, Any]]:
    """slug -> dashboard JSON model, for every registered dashboard."""
    slugs = [spec.slug for spec in DASHBOARDS]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"dashboard slugs must be unique: {slugs}")
    return {spec.slug: spec.build(ctx) for spec in DASHBOARDS}
