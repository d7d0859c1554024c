"""Grafana Cloud section."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import HttpsUrl, Section


class MaintenanceWindow(Section):
    """A recurring window in which Grafana notifications are muted."""

    weekdays: tuple[str, ...] = Field(default=("saturday",), min_length=1)
    start_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end_time: str = Field(default="04:00", pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    location: str = Field(default="UTC")


class GrafanaSpec(Section):
    url: HttpsUrl = Field(description="Grafana Cloud stack URL, e.g. https://screener.grafana.net")
    stack_slug: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="enables Cloud plugin installation"
    )
    aws_account_id: str = Field(
        default="008923505280",
        pattern=r"^\d{12}$",
        description="Grafana Cloud's AWS account that assumes the data-source role",
    )
    external_id: str = Field(
        min_length=4, max_length=1224, description="external ID Grafana Cloud shows for AWS data sources"
    )
    folder_title: str | None = Field(default=None, description="defaults to 'Screener monitoring (<env>)'")
    maintenance: MaintenanceWindow | None = None
