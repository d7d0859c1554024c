"""Synthetic Monitoring section: external HTTP checks of the public endpoints, their alerts and the status page."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.config.base import HttpsUrl, PublicUrl, Re2Pattern, Section, check_trusted_host

# Synthetic Monitoring writes its results to the Grafana Cloud stack's own
# Prometheus (Mimir), not to AMP. Grafana Cloud provisions that data source
# in every stack under this fixed UID (its name, `grafanacloud-<slug>-prom`,
# varies with the stack), so dashboards and rules can name it without a lookup.
SM_DATASOURCE_UID = "grafanacloud-prom"
SM_DATASOURCE_TYPE = "prometheus"

_CHECK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")
# Services the public reaches: each needs at least one check from outside.
PUBLIC_KINDS = ("api", "frontend")
# The names of the checks the service catalog's own URLs get.
HEALTH_CHECK = "health"  # of healthUrl
HOME_CHECK = "home"  # of publicUrl


class ExtraCheck(Section):
    """A check beyond the catalog's healthUrl/publicUrl, e.g. a second page of a service."""

    name: str = Field(description="short kebab-case name; the check's job is <platform>-<env>-<service>-<name>")
    service: str = Field(description="catalog service the check belongs to (its `service` label)")
    url: PublicUrl
    body_regexp: Re2Pattern | None = Field(
        default=None, description="the check fails unless the body matches this regexp (RE2 syntax)"
    )
    allow_http_reason: str | None = Field(
        default=None, min_length=10, description="why this check may probe plain http:// (https is required otherwise)"
    )

    @field_validator("name")
    @classmethod
    def _name_is_kebab(cls, name: str) -> str:
        if not _CHECK_NAME.match(name):
            raise ValueError(
                f"'{name}' must be lower-case letters, digits and '-' (at most 21), starting with a letter"
            )
        return name

    @model_validator(mode="after")
    def _https_unless_explained(self) -> ExtraCheck:
        if self.url.startswith("http://") and self.allow_http_reason is None:
            raise ValueError(
                f"check '{self.name}' probes plain http ({self.url}); use https:// or set allowHttpReason "
                "to say why this endpoint cannot serve TLS"
            )
        return self


# Synthetic Monitoring's API hosts, one per Grafana Cloud region: `synthetic-monitoring-api.grafana.net`,
# `synthetic-monitoring-api-<region>.grafana.net` (e.g. -us-east-0, -eu-west-2) and, for regions created
# since 2026-01-15, `<service-host>.<csp>-<csp-region>-<counter>.grafana.net` (Grafana Cloud docs:
# testing/synthetic-monitoring/api-reference, security-and-account-management/region-url-formats).
# The plan sends the Synthetic Monitoring token to this host.
SM_API_HOST = re.compile(r"^synthetic-monitoring-api(-[a-z0-9-]+)?(\.[a-z0-9-]+)?\.grafana\.net$")


class SyntheticsSpec(Section):
    probes: tuple[str, ...] = Field(
        default=("Frankfurt", "London", "NorthVirginia"),
        min_length=1,
        description="public probe names as Grafana lists them; resolved to IDs through the provider at plan time",
    )
    frequency_seconds: int = Field(default=60, ge=10, le=3600, description="how often each probe runs each check")
    timeout_seconds: int = Field(default=10, ge=1, le=60)
    alert_sensitivity: Literal["none", "low", "medium", "high"] = Field(
        default="medium", description="Synthetic Monitoring's own alert level of each check"
    )
    publish_status_page: bool = Field(default=False, description="publish the uptime status page publicly")
    api_url_outside_grafana_cloud_reason: str | None = Field(
        default=None,
        min_length=10,
        description="why apiUrl is not a Grafana Cloud Synthetic Monitoring host (the SM token is sent there)",
    )
    api_url: HttpsUrl = Field(
        default="https://synthetic-monitoring-api.grafana.net",
        description="Synthetic Monitoring API of the Grafana Cloud stack's region (provider sm_url); "
        "a synthetic-monitoring-api*.grafana.net host unless apiUrlOutsideGrafanaCloudReason is set",
    )
    health_body_regexp: Re2Pattern = Field(
        default=r'"status"\s*:\s*"(ok|healthy|pass)"',
        description="the API health check fails unless its JSON body's status field matches",
    )
    failing_probes_percent: float = Field(
        default=50,
        ge=0,
        lt=100,
        description="SyntheticCheckFailing fires when more than this share of probes fail a check",
    )
    failing_for_minutes: int = Field(default=5, ge=1, le=60, description="how long the share must stay above")
    cert_expiry_days: int = Field(
        default=21, ge=1, le=90, description="SyntheticCertificateExpiring fires when a certificate expires sooner"
    )
    checks: tuple[ExtraCheck, ...] = Field(default=(), description="checks beyond the catalog's public URLs")

    @field_validator("probes")
    @classmethod
    def _probes_are_unique(cls, probes: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(probes)) != len(probes):
            raise ValueError(f"probes {list(probes)} lists a probe twice")
        return probes

    @field_validator("api_url")
    @classmethod
    def _api_is_grafana_cloud(cls, api_url: str, info: ValidationInfo) -> str:
        # The reason is declared first so that it is validated (and in info.data) by now.
        return check_trusted_host(
            api_url,
            SM_API_HOST,
            info.data.get("api_url_outside_grafana_cloud_reason"),
            expected="a Grafana Cloud Synthetic Monitoring API host (synthetic-monitoring-api[-<region>].grafana.net, "
            "the backend address under Synthetics -> Config)",
            token="Synthetic Monitoring token",
            override_key="synthetics.apiUrlOutsideGrafanaCloudReason",
        )

    @model_validator(mode="after")
    def _timeout_fits_in_the_period(self) -> SyntheticsSpec:
        # Synthetic Monitoring refuses a check whose timeout exceeds its period.
        if self.timeout_seconds > self.frequency_seconds:
            raise ValueError(
                f"timeoutSeconds {self.timeout_seconds} exceeds frequencySeconds {self.frequency_seconds}; "
                "a check must finish before the next run"
            )
        return self
