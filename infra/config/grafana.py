"""Grafana Cloud section."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.config.base import HttpsUrl, PlainText, Section, check_trusted_host

# Grafana Cloud stacks live at <slug>.grafana.net (Grafana Cloud docs: region-url-formats). The plan
# sends the service-account token to this host.
GRAFANA_CLOUD_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.grafana\.net$")
# Grafana stores folder (and dashboard) titles in a VARCHAR(189) column
# (grafana/grafana pkg/services/sqlstore/migrations/dashboard_mig.go, "Update dashboard title length";
# folders began as dashboards and keep the limit).
MAX_TITLE_LENGTH = 189


class NotificationPolicySpec(Section):
    """Ownership of the Grafana instance's one notification policy tree (`notificationPolicy: {}`).

    Grafana has a single policy tree per organisation, and the committed
    stacks share one Grafana Cloud stack: if every stack wrote the tree, the
    last deploy would erase the others' routes. Exactly one stack per Grafana
    instance sets this section. Its tree names only that stack's own contact
    points and mute timing: every Grafana-managed rule of every stack routes
    itself to its own stack's contact points (the rule's notification
    settings), so the tree only catches alerts of rules made by hand.
    """

    @model_validator(mode="before")
    @classmethod
    def _routes_left_the_tree(cls, data: Any) -> Any:
        # The tree used to route every environment to that environment's contact points, by name: it
        # tied the owning stack to objects the other stacks own (they could not be destroyed first).
        if isinstance(data, dict) and {"environments", "maintenanceEnvironments"} & set(data):
            raise ValueError(
                "environments and maintenanceEnvironments were removed: every Grafana rule now routes itself to "
                "its own stack's contact points, and the tree names only this stack's own; write "
                "`notificationPolicy: {}`"
            )
        return data


class GrafanaSpec(Section):
    @model_validator(mode="before")
    @classmethod
    def _maintenance_moved(cls, data: Any) -> Any:
        # The window now mutes AMP's Alertmanager too, so it left the Grafana section.
        if isinstance(data, dict) and "maintenance" in data:
            raise ValueError(
                "maintenance moved to monitoring:maintenance (it mutes AMP's Alertmanager too): write "
                "`monitoring:maintenance: {timeZone: <location>, weekly: [{weekdays: [...], startTime: ..., "
                "endTime: ...}]}` and remove grafana.maintenance"
            )
        return data

    self_hosted_reason: str | None = Field(
        default=None,
        min_length=10,
        description="why url is not a Grafana Cloud stack (the service-account token is sent there)",
    )
    url: HttpsUrl = Field(
        description="Grafana Cloud stack URL, e.g. https://screener.grafana.net; a <slug>.grafana.net host "
        "unless selfHostedReason is set"
    )
    stack_slug: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="installs the AMP plugin on this Grafana Cloud stack (a stack-wide object): set it only in the "
        "stack file that sets notificationPolicy",
    )
    aws_account_id: str = Field(
        default="008923505280",
        pattern=r"^\d{12}$",
        description="Grafana Cloud's AWS account that assumes the data-source role",
    )
    external_id: str = Field(
        pattern=r"^\d{1,20}$",
        description="the external ID Grafana Cloud sends when it assumes the data-source role (Grafana Assume Role): "
        "one per Grafana Cloud stack, its numeric ID, shown on an AWS data source's settings page; the same in "
        "every stack file with this grafana.url",
    )
    folder_title: PlainText | None = Field(
        default=None, min_length=1, max_length=MAX_TITLE_LENGTH, description="defaults to 'Screener monitoring (<env>)'"
    )
    amp_plugin_version: str = Field(
        # The newest release (tag v3.2.0, 2026-07-30) of github.com/grafana/grafana-amazonprometheus-datasource.
        default="3.2.0",
        pattern=r"^\d+\.\d+\.\d+$",
        description="version of grafana-amazonprometheus-datasource; pinned so that 'latest' never shows as drift",
    )
    notification_policy: NotificationPolicySpec | None = Field(
        default=None,
        description="set (to {}) on exactly one stack per Grafana instance: that stack owns the policy tree, which "
        "sends alerts of hand-made rules to this stack's contact points (every managed rule routes itself)",
    )
    dashboard_previews: bool = Field(
        default=False,
        description="this stack owns the Grafana instance's pull-request previews folder and its upload account "
        "(one stack per instance)",
    )
    no_data_for_minutes: int = Field(
        default=10, ge=2, le=120, description="how long AMP may return no data at all before Grafana alerts"
    )

    @field_validator("url")
    @classmethod
    def _url_is_grafana_cloud(cls, url: str, info: ValidationInfo) -> str:
        # selfHostedReason is declared first so that it is validated (and in info.data) by now.
        return check_trusted_host(
            url,
            GRAFANA_CLOUD_HOST,
            info.data.get("self_hosted_reason"),
            expected="a Grafana Cloud stack (https://<slug>.grafana.net, as the Cloud portal shows it)",
            token="Grafana service-account token",
            override_key="grafana.selfHostedReason",
        )

    @model_validator(mode="after")
    def _one_owner_for_stack_wide_objects(self) -> GrafanaSpec:
        # The plugin installation is keyed by (Grafana stack, plugin): two Pulumi stacks installing it would
        # each own it, and destroying either would uninstall it under the other. Its owner is the stack that
        # already owns the other stack-wide object, the policy tree.
        if self.stack_slug is not None and self.notification_policy is None:
            raise ValueError(
                "stackSlug installs the AMP plugin, which the whole Grafana stack shares; only the stack file that "
                "owns the policy tree (sets notificationPolicy) may set it. Remove stackSlug here"
            )
        return self
