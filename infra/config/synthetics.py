"""Synthetic Monitoring section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import Section


class SyntheticsSpec(Section):
    probes: tuple[str, ...] = Field(
        default=("Frankfurt", "London", "NorthVirginia"), min_length=1, description="probe names as Grafana lists them"
    )
    frequency_seconds: int = Field(default=60, ge=10, le=3600)
    timeout_seconds: int = Field(default=10, ge=1, le=60)
    alert_sensitivity: Literal["none", "low", "medium", "high"] = "medium"
    publish_status_page: bool = Field(default=False, description="publish the uptime dashboard publicly")
