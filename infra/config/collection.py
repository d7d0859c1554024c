"""Metrics collection on EKS section."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.config.base import K8S_NAME, Section, Url

# The AMP managed scraper refuses scrape intervals below 30 s.
MANAGED_SCRAPER_MIN_INTERVAL_SECONDS = 30


# EC2 resource IDs: the prefix and 8 (older) or 17 hexadecimal digits.
_EC2_ID = r"^{prefix}-([0-9a-f]{{8}}|[0-9a-f]{{17}})$"


class CeleryExporterSpec(Section):
    """danihodovic/celery-exporter, deployed under the celery service's scrape Service name and port."""

    enabled: bool = Field(default=True, description="deploy the exporter for the catalog's celery service")
    broker_secret_name: str = Field(
        default="celery-exporter-broker",
        pattern=K8S_NAME,
        description="Kubernetes Secret holding the broker URL; created from the celeryBrokerUrl secret when set, "
        "otherwise it must already exist in the celery service's namespace",
    )
    broker_secret_key: str = Field(
        default="CELERY_BROKER_URL",
        pattern=r"^[-._a-zA-Z0-9]{1,253}$",
        description="key of the broker URL in that Secret (so the Celery app's own Secret can be reused)",
    )
    queues: tuple[str, ...] = Field(
        default=("celery",),
        description="queues whose length is reported even while no worker consumes them (a backlog with every "
        "worker down is exactly when the length matters)",
    )

    @field_validator("queues")
    @classmethod
    def _queue_names_fit_a_flag(cls, queues: tuple[str, ...]) -> tuple[str, ...]:
        # The exporter takes them as one comma-separated --queues flag.
        for queue in queues:
            if not queue or "," in queue or any(c.isspace() for c in queue):
                raise ValueError(f"queue name {queue!r} must be non-empty, without commas or spaces")
        return queues


class ExportersSpec(Section):
    """Which exporters the collection installs in the cluster (prometheus-community charts, celery-exporter).

    Each one is installed under the Kubernetes Service name and namespace that
    the service catalog's `scrape` block gives, so that discovery finds it.
    """

    postgres: bool = Field(default=True, description="postgres-exporter for the catalog's postgres service")
    postgres_dsn_secret: str = Field(
        default="postgres-exporter-dsn",
        pattern=K8S_NAME,
        description="Kubernetes Secret holding DATA_SOURCE_NAME; created from the postgresDsn secret when set, "
        "otherwise it must already exist in the postgres service's namespace",
    )
    redis_address: str | None = Field(
        default=None,
        pattern=r"^rediss?://[A-Za-z0-9.-]+:\d{1,5}$",
        description="redis://host:port the redis-exporter connects to; no redis-exporter when absent",
    )
    nginx_status_url: Url | None = Field(
        default=None, description="stub_status URL the nginx exporter reads; no nginx exporter when absent"
    )
    celery: CeleryExporterSpec = Field(
        default_factory=CeleryExporterSpec,
        description="celery-exporter, as a Deployment and Service with a pinned image",
    )
    airflow_statsd: bool = Field(default=True, description="statsd-exporter with the Airflow mapping")
    kube_state_metrics: bool = True
    node_exporter: bool = True


class CollectionSpec(Section):
    mode: Literal["none", "managed-scraper", "in-cluster"] = Field(default="none", description="how metrics reach AMP")
    discovery: Literal["static", "kubernetes"] = Field(
        default="kubernetes", description="static targets (dev) or Kubernetes service discovery"
    )
    cluster_name: str | None = Field(default=None, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
    subnet_ids: tuple[str, ...] = Field(default=(), description="managed scraper: subnets in at least two AZs")
    security_group_ids: tuple[str, ...] = ()
    namespace: str = Field(default="monitoring", pattern=K8S_NAME)
    scrape_interval_seconds: int = Field(default=30, ge=5, le=300)
    exporters: ExportersSpec | None = Field(
        default=None, description="exporters to install in the cluster; none when absent (the cluster runs its own)"
    )

    @property
    def runs_in_cluster(self) -> bool:
        """Whether this stack deploys anything on the cluster: the collection (and, on its Kubernetes
        provider, the log collector). Mode 'none' deploys nothing even where a cluster is named."""
        return self.mode != "none" and self.cluster_name is not None

    @field_validator("subnet_ids", "security_group_ids")
    @classmethod
    def _are_ec2_ids(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        prefix, kind = ("subnet", "subnet") if info.field_name == "subnet_ids" else ("sg", "security group")
        pattern = re.compile(_EC2_ID.format(prefix=prefix))
        for resource_id in ids:
            if not pattern.match(resource_id):
                raise ValueError(
                    f"'{resource_id}' is not a {kind} ID ({prefix}- and 8 or 17 hexadecimal digits, "
                    f"e.g. {prefix}-0a1b2c3d4e5f60001); copy it from the VPC console"
                )
        if len(set(ids)) != len(ids):
            raise ValueError(f"{list(ids)} lists an ID twice")
        return ids

    @model_validator(mode="after")
    def _mode_has_what_it_needs(self) -> CollectionSpec:
        if self.mode == "managed-scraper":
            if not self.cluster_name:
                raise ValueError("mode 'managed-scraper' needs clusterName")
            if len(self.subnet_ids) < 2:
                raise ValueError("mode 'managed-scraper' needs subnetIds in at least two availability zones")
            if self.scrape_interval_seconds < MANAGED_SCRAPER_MIN_INTERVAL_SECONDS:
                raise ValueError(
                    f"mode 'managed-scraper' refuses scrapeIntervalSeconds below "
                    f"{MANAGED_SCRAPER_MIN_INTERVAL_SECONDS} (got {self.scrape_interval_seconds}); raise it"
                )
            if self.discovery != "kubernetes":
                # The managed scraper resolves no host names but the API server's,
                # so static host:port targets cannot work there.
                raise ValueError("mode 'managed-scraper' needs discovery 'kubernetes' (it cannot resolve static hosts)")
        return self
