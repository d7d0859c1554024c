"""Metrics collection on EKS section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import Section, Url

# The AMP managed scraper refuses scrape intervals below 30 s.
MANAGED_SCRAPER_MIN_INTERVAL_SECONDS = 30


class ExportersSpec(Section):
    """Which exporters the collection installs in the cluster (prometheus-community charts).

    Each one is installed under the Kubernetes Service name and namespace that
    the service catalog's `scrape` block gives, so that discovery finds it.
    """

    postgres: bool = Field(default=True, description="postgres-exporter for the catalog's postgres service")
    postgres_dsn_secret: str = Field(
        default="postgres-exporter-dsn",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
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
    namespace: str = Field(default="monitoring", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    scrape_interval_seconds: int = Field(default=30, ge=5, le=300)
    exporters: ExportersSpec | None = Field(
        default=None, description="exporters to install in the cluster; none when absent (the cluster runs its own)"
    )

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
