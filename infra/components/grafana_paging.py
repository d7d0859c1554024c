"""Grafana's PagerDuty integration for the on-call contact point (monitoring:paging)."""

from __future__ import annotations

import pulumi
import pulumiverse_grafana as grafana


def pagerduty_integrations(
    integration_key: pulumi.Output[str] | None,
) -> list[grafana.alerting.ContactPointPagerdutyArgs] | None:
    """The Events API v2 integration as a Grafana PagerDuty integration, or None without paging."""
    if integration_key is None:
        return None
    return [
        grafana.alerting.ContactPointPagerdutyArgs(
            integration_key=pulumi.Output.secret(integration_key),
            severity="critical",
            summary='{{ template "default.title" . }}',
        )
    ]
