"""Alerting sections: thresholds from the spec and the API SLOs."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import Section


class Thresholds(Section):
    """Alert thresholds; every unit is in the name."""

    error_ratio_percent: float = Field(default=1.0, gt=0, le=100, description="5xx share of requests")
    p95_latency_ms: int = Field(default=500, ge=10, le=60000)
    memory_utilization_percent: float = Field(default=80, gt=0, lt=100)
    disk_free_percent: float = Field(default=10, gt=0, lt=100)
    db_pool_utilization_percent: float = Field(
        default=90, gt=0, le=100, description="checked-out share of the app pool"
    )
    db_server_connections_percent: float = Field(default=80, gt=0, le=100, description="share of max_connections")
    slow_queries_per_minute: float = Field(default=1, gt=0)
    replication_lag_seconds: int = Field(default=30, ge=1)
    cache_hit_ratio_percent: float = Field(default=80, gt=0, lt=100, description="alert below this")
    redis_memory_percent: float = Field(default=90, gt=0, lt=100, description="of maxmemory")
    celery_queue_backlog: int = Field(default=100, ge=1, description="tasks waiting")
    celery_failure_ratio_percent: float = Field(default=5, gt=0, le=100)
    cpu_throttling_percent: float = Field(default=25, gt=0, le=100)
    degradation_factor: float = Field(default=2.0, gt=1, le=10, description="p95 vs same time last week")


class SloSpec(Section):
    """Service level objectives of the API."""

    availability_percent: float = Field(default=99.5, gt=50, lt=100)
    latency_percent: float = Field(
        default=99.0, gt=50, lt=100, description="share of requests faster than latencyThresholdMs"
    )
    latency_threshold_ms: int = Field(
        default=500, description="must be a histogram bucket bound of http_request_duration_seconds"
    )
    min_requests_per_second: float = Field(
        default=0.1, ge=0, description="below this traffic burn-rate alerts stay quiet"
    )

    @model_validator(mode="after")
    def _threshold_is_a_bucket(self) -> SloSpec:
        buckets_ms = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
        if self.latency_threshold_ms not in buckets_ms:
            raise ValueError(
                f"latencyThresholdMs {self.latency_threshold_ms} is not a bucket bound; one of {buckets_ms}"
            )
        return self
