"""Metrics collection on EKS section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import Section


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

    @model_validator(mode="after")
    def _mode_has_what_it_needs(self) -> CollectionSpec:
        if self.mode == "managed-scraper":
            if not self.cluster_name:
                raise ValueError("mode 'managed-scraper' needs clusterName")
            if len(self.subnet_ids) < 2:
                raise ValueError("mode 'managed-scraper' needs subnetIds in at least two availability zones")
        return self
