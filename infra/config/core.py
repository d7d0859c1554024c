"""Core sections: identity, the service catalog and the AMP workspace."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from infra.config.base import K8S_NAME, PublicHttpsUrl, Section, check_label_name

ServiceKind = Literal["api", "frontend", "postgres", "redis", "nginx", "celery", "airflow"]

# How each kind of service is scraped: by its own /metrics or through the
# exporter that the spec names. The exporter decides the metric names that
# rules and dashboards may use.
EXPORTER_BY_KIND: dict[str, str] = {
    "api": "application",
    "postgres": "postgres_exporter",
    "redis": "redis_exporter",
    "nginx": "nginx-prometheus-exporter",
    "celery": "celery-exporter",
    "airflow": "statsd_exporter",
}

_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _check_log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{days} is not a CloudWatch retention period; one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return days


# Days a CloudWatch log group keeps its events: only the periods CloudWatch offers.
LogRetentionDays = Annotated[int, AfterValidator(_check_log_retention)]


class ScrapeSpec(Section):
    """How the collector reaches one service's metrics."""

    port: int = Field(ge=1, le=65535, description="port of the /metrics endpoint or its exporter")
    path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9/_.-]*$")
    k8s_namespace: str = Field(default="screener", alias="k8sNamespace", pattern=K8S_NAME)
    k8s_service: str | None = Field(
        alias="k8sService",
        default=None,
        pattern=K8S_NAME,
        description="Kubernetes Service selected by discovery; defaults to the service name",
    )
    static_targets: tuple[str, ...] = Field(
        default=(), description="host:port targets used when discovery is 'static' (dev)"
    )

    @field_validator("static_targets")
    @classmethod
    def _targets_are_host_port(cls, targets: tuple[str, ...]) -> tuple[str, ...]:
        for target in targets:
            if not _HOST_PORT.match(target):
                raise ValueError(f"'{target}' is not host:port")
        return targets


class ServiceSloOverride(Section):
    """One API service's own objectives, where they differ from the stack's `monitoring:slo`.

    The SLO rules carry every override as a labelled `slo:objective:ratio` series and the
    stack's objective for every other service, so an override adds no rule.
    """

    availability_percent: float | None = Field(
        default=None,
        gt=50,
        lt=100,
        description="this service's availability objective (default: slo.availabilityPercent)",
    )
    latency_percent: float | None = Field(
        default=None, gt=50, lt=100, description="its latency objective (default: slo.latencyPercent)"
    )


class ServiceSpec(Section):
    """One entry of the service catalog."""

    name: str = Field(description="the `service` label attached at scrape time")
    kind: ServiceKind
    scrape: ScrapeSpec | None = Field(default=None, description="absent for services with no metrics")
    health_url: PublicHttpsUrl | None = Field(default=None, description="public health endpoint probed from outside")
    public_url: PublicHttpsUrl | None = Field(default=None, description="public page probed from outside")
    slo: ServiceSloOverride | None = Field(
        default=None, description="API services only: objectives that differ from the stack's monitoring:slo"
    )
    replicas: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="pods behind the service (scrape targets with kubernetes discovery); the cost model counts them",
    )

    @field_validator("name")
    @classmethod
    def _name_is_a_label_value(cls, name: str) -> str:
        if not _SERVICE_NAME.match(name):
            raise ValueError(f"'{name}' must be lower-case letters, digits and '-', starting with a letter")
        return name

    @model_validator(mode="after")
    def _kind_needs_scrape(self) -> ServiceSpec:
        if self.kind != "frontend" and self.scrape is None:
            raise ValueError(f"service '{self.name}' of kind '{self.kind}' needs a 'scrape' block (port at least)")
        if self.slo is not None and self.kind != "api":
            raise ValueError(
                f"service '{self.name}' of kind '{self.kind}' has an 'slo' block; only api services have SLOs: "
                "remove it"
            )
        return self

    @property
    def exporter(self) -> str | None:
        return EXPORTER_BY_KIND.get(self.kind)

    @property
    def public_endpoints(self) -> tuple[str, ...]:
        return tuple(url for url in (self.health_url, self.public_url) if url)


# AMP's active-series quota per workspace can be raised to 1 billion (Service Quotas); a label set cannot exceed it.
MAX_ACTIVE_SERIES = 1_000_000_000


class LabelSetLimit(Section):
    label_set: dict[str, str] = Field(min_length=1)
    max_series: int = Field(ge=1, le=MAX_ACTIVE_SERIES)

    @field_validator("label_set")
    @classmethod
    def _keys_are_label_names(cls, label_set: dict[str, str]) -> dict[str, str]:
        for name in label_set:
            check_label_name(name)
        return label_set


# AMP's default quotas (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html): 2,000 rules per
# workspace, 1 MB per rule groups namespace definition, 1,000 active alerts per alert manager and 1,000 alert
# aggregation groups (each label-value combination of a route's group_by). Checked before upload by the policies
# amp-rule-quotas and amp-alertmanager-outage-quotas (policies/screener_policies/quotas.py).
AMP_RULES_PER_WORKSPACE = 2000
AMP_NAMESPACE_BYTES = 1_000_000  # "1 MB", read as the smaller of 10^6 and 2^20 so a plan never relies on the larger
AMP_ACTIVE_ALERTS = 1000
AMP_AGGREGATION_GROUPS = 1000
# Not an AMP quota: a group's rules are evaluated one after the other within one evaluation interval
# (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-Ruler.html), so a group stays small.
MAX_RULES_PER_GROUP = 100


class AmpQuotas(Section):
    """The AMP quotas this account has (defaults: AMP's defaults); raise one here after Service Quotas raised it."""

    rules_per_workspace: int = Field(default=AMP_RULES_PER_WORKSPACE, ge=1, le=1_000_000)
    namespace_bytes: int = Field(
        default=AMP_NAMESPACE_BYTES, ge=1, le=100_000_000, description="bytes of one rule groups namespace definition"
    )
    rules_per_group: int = Field(
        default=MAX_RULES_PER_GROUP,
        ge=1,
        le=10_000,
        description="rules one group evaluates in sequence each interval (a guard, not an AMP quota)",
    )
    active_alerts: int = Field(default=AMP_ACTIVE_ALERTS, ge=1, le=1_000_000, description="per alert manager")
    aggregation_groups: int = Field(
        default=AMP_AGGREGATION_GROUPS, ge=1, le=1_000_000, description="alert aggregation groups per alert manager"
    )


class AmpSpec(Section):
    """The Amazon Managed Service for Prometheus workspace."""

    retention_days: int = Field(
        default=15, ge=1, le=1095, description="metric retention; the spec asks for 15 days at least"
    )
    log_retention_days: LogRetentionDays = Field(
        default=30, description="CloudWatch retention of rule/Alertmanager logs"
    )
    label_set_limits: tuple[LabelSetLimit, ...] = ()
    quotas: AmpQuotas = Field(
        default=AmpQuotas(), description="this account's AMP quotas the plan is checked against (default: AMP's)"
    )
    protect: bool = Field(
        default=False,
        description="protect the stack's stateful resources (workspace, its logs, KMS key, SNS topics, status page)",
    )
