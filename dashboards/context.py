"""What a dashboard needs to know about one stack: names, thresholds, SLOs and services."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infra.config.alerting import SloSpec, Thresholds
from infra.config.core import ServiceSpec
from infra.config.model import StackInput
from infra.config.synthetics import SyntheticsSpec

AMP_DATASOURCE_TYPE = "grafana-amazonprometheus-datasource"


def amp_panel_targets(model: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(panel, target) of every PromQL query on the AMP data source in a dashboard's JSON model,
    panels nested in collapsed rows included; other data sources (synthetic checks) are skipped."""

    def panels(items: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(model.get("panels", [])):
        if (panel.get("datasource") or {}).get("type") != AMP_DATASOURCE_TYPE:
            continue
        for target in panel.get("targets", []):
            if isinstance(target.get("expr"), str) and target["expr"]:
                yield panel, target


def amp_datasource_uid(name_prefix: str) -> str:
    """The AMP data source's UID; dashboards default their `$datasource` to it."""
    return f"{name_prefix}-amp"


def sentry_project_url(settings: StackInput, role: str) -> str | None:
    """The Sentry page of the `role` project (backend, frontend) showing this environment's issues.

    The project page by slug (sentry.io route /organizations/:orgId/projects/:projectId/, the
    projectDetail view): the issues list wants the project's numeric ID, which only exists once
    the project does, while dashboards are rendered from the stack file before anything is declared.
    """
    spec = settings.sentry
    if spec is None:
        return None
    slug = spec.project_slug(settings.platform, settings.environment, role)
    base = spec.web_url.rstrip("/")
    return f"{base}/organizations/{spec.organization}/projects/{slug}/?environment={settings.environment}"


def dashboard_uid(name_prefix: str, slug: str) -> str:
    """Stable dashboard UID (links and bookmarks survive every redeploy): `<platform>-<env>-<slug>`."""
    return f"{name_prefix}-{slug}"


@dataclass(frozen=True)
class DashboardContext:
    environment: str
    name_prefix: str
    datasource_uid: str
    thresholds: Thresholds
    slo: SloSpec
    services: tuple[ServiceSpec, ...]
    synthetics: SyntheticsSpec
    # The backend's Sentry project page for this environment; None without error tracking.
    sentry_backend_url: str | None = None

    def uid(self, slug: str) -> str:
        return dashboard_uid(self.name_prefix, slug)

    def services_of(self, *kinds: str) -> tuple[str, ...]:
        """Names of the catalog's services of these kinds, as their `service` label reads."""
        return tuple(service.name for service in self.services if service.kind in kinds)

    @classmethod
    def from_settings(cls, settings: StackInput) -> DashboardContext:
        name_prefix = settings.name_prefix
        return cls(
            environment=settings.environment,
            name_prefix=name_prefix,
            datasource_uid=amp_datasource_uid(name_prefix),
            thresholds=settings.thresholds,
            slo=settings.slo,
            services=settings.services,
            synthetics=settings.synthetics,
            sentry_backend_url=sentry_project_url(settings, "backend"),
        )
