"""Alerting sections: thresholds from the spec, the API SLOs and how rules are rendered.

Every number an alert compares against lives here, with its unit in the
name, so that a stack file can tune it and a reviewer can find it. The rule
builders in `infra/alerting/` read these objects and nothing else.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from infra.config.base import K8S_NAME, Section, Url

# Bucket bounds of http_request_duration_seconds in the backend contract.
HTTP_DURATION_BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Thresholds(Section):
    """Alert thresholds; every unit is in the name. Paired alerts have a warning and a critical bound."""

    error_ratio_percent: float = Field(default=1.0, gt=0, le=100, description="5xx share of requests")
    error_ratio_critical_percent: float = Field(default=5.0, gt=0, le=100, description="5xx share that pages")
    p95_latency_ms: int = Field(default=500, ge=10, le=60000)
    p95_latency_critical_ms: int = Field(default=2000, ge=10, le=60000, description="p95 that pages")
    memory_utilization_percent: float = Field(default=80, gt=0, lt=100)
    disk_free_percent: float = Field(default=10, gt=0, lt=100)
    disk_free_critical_percent: float = Field(default=5, gt=0, lt=100, description="free space that pages")
    disk_fill_warning_hours: int = Field(default=24, ge=1, le=168, description="warn when predicted full within")
    disk_fill_critical_hours: int = Field(default=4, ge=1, le=168, description="page when predicted full within")
    db_pool_utilization_percent: float = Field(
        default=90, gt=0, le=100, description="checked-out share of the app pool"
    )
    db_server_connections_percent: float = Field(default=80, gt=0, le=100, description="share of max_connections")
    db_server_connections_critical_percent: float = Field(
        default=95, gt=0, le=100, description="share of max_connections that pages"
    )
    db_query_error_percent: float = Field(default=1.0, gt=0, le=100, description="failed share of app queries")
    slow_queries_per_minute: float = Field(default=1, gt=0, le=100_000)
    replication_lag_seconds: int = Field(default=30, ge=1, le=86_400)
    deadlocks_per_hour: int = Field(
        default=5, ge=0, le=100_000, description="alert above this many deadlocks in an hour"
    )
    cache_hit_ratio_percent: float = Field(default=80, gt=0, lt=100, description="alert below this")
    redis_memory_percent: float = Field(default=90, gt=0, lt=100, description="of maxmemory")
    redis_evictions_per_second: float = Field(default=1.0, ge=0, le=1_000_000, description="evicted keys per second")
    celery_queue_backlog: int = Field(default=100, ge=1, le=10_000_000, description="tasks waiting")
    celery_failure_ratio_percent: float = Field(default=5, gt=0, le=100)
    cpu_throttling_percent: float = Field(default=25, gt=0, le=100)
    degradation_factor: float = Field(default=2.0, gt=1, le=10, description="p95 vs same time last week")
    degradation_floor_ms: int = Field(
        default=100, ge=0, le=60_000, description="latency below this is never called degraded, however it compares"
    )
    health_check_failure_percent: float = Field(
        default=10, gt=0, le=100, description="share of /health requests answered with a non-2xx status"
    )

    @model_validator(mode="after")
    def _critical_is_beyond_warning(self) -> Thresholds:
        pairs = (
            (
                "errorRatioPercent",
                self.error_ratio_percent,
                "errorRatioCriticalPercent",
                self.error_ratio_critical_percent,
            ),
            ("p95LatencyMs", self.p95_latency_ms, "p95LatencyCriticalMs", self.p95_latency_critical_ms),
            (
                "dbServerConnectionsPercent",
                self.db_server_connections_percent,
                "dbServerConnectionsCriticalPercent",
                self.db_server_connections_critical_percent,
            ),
            (
                "diskFillCriticalHours",
                self.disk_fill_critical_hours,
                "diskFillWarningHours",
                self.disk_fill_warning_hours,
            ),
            ("diskFreeCriticalPercent", self.disk_free_critical_percent, "diskFreePercent", self.disk_free_percent),
        )
        for low_name, low, high_name, high in pairs:
            if not low < high:
                raise ValueError(f"{low_name} ({low}) must be below {high_name} ({high}); raise {high_name}")
        return self


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
        default=0.1, ge=0, le=100_000, description="below this traffic burn-rate alerts stay quiet"
    )

    @model_validator(mode="after")
    def _threshold_is_a_bucket(self) -> SloSpec:
        if self.latency_threshold_ms not in HTTP_DURATION_BUCKETS_MS:
            raise ValueError(
                f"latencyThresholdMs {self.latency_threshold_ms} is not a bucket bound; "
                f"one of {HTTP_DURATION_BUCKETS_MS}"
            )
        return self


class TradingHours(Section):
    """When the market is open: screening traffic at zero then is suspicious (KRX by default)."""

    open_local: str = Field(default="09:00", description="HH:MM local market time")
    close_local: str = Field(default="15:30", description="HH:MM local market time")
    utc_offset_hours: int = Field(default=9, ge=-12, le=14, description="market time zone offset; KST has no DST")
    weekdays: tuple[int, ...] = Field(
        default=(1, 2, 3, 4, 5), description="trading days as PromQL day_of_week(): 0 = Sunday ... 6 = Saturday"
    )

    @field_validator("open_local", "close_local")
    @classmethod
    def _is_hh_mm(cls, value: str) -> str:
        if not _LOCAL_TIME.match(value):
            raise ValueError(f"'{value}' is not a time of day; write HH:MM, e.g. 09:00")
        return value

    @field_validator("weekdays")
    @classmethod
    def _are_days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(day not in range(7) for day in days) or len(set(days)) != len(days):
            raise ValueError(f"{list(days)} must be distinct days 0 (Sunday) to 6 (Saturday)")
        return tuple(sorted(days))

    @model_validator(mode="after")
    def _opens_before_closing(self) -> TradingHours:
        if self.open_minute >= self.close_minute:
            raise ValueError(f"openLocal {self.open_local} must be before closeLocal {self.close_local}")
        return self

    @property
    def open_minute(self) -> int:
        hours, minutes = self.open_local.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def close_minute(self) -> int:
        hours, minutes = self.close_local.split(":")
        return int(hours) * 60 + int(minutes)


class RulesSpec(Section):
    """How the alert and recording rules are rendered (the `monitoring:rules` section)."""

    runbook_base_url: Url = Field(
        default="https://github.com/screener-platform/monitoring/blob/main/docs/runbooks.md",
        description="page holding one heading per alert; each alert links to <url>#<alert-name-lowercase>",
    )
    evaluation_interval_seconds: int = Field(
        default=60, ge=1, le=600, description="rule group evaluation interval (AMP's default is 60)"
    )
    trading_hours: TradingHours = TradingHours()

    @field_validator("runbook_base_url")
    @classmethod
    def _has_no_anchor(cls, url: str) -> str:
        if "#" in url:
            raise ValueError(f"'{url}' must not carry an #anchor; each alert adds its own")
        return url


class KubernetesAlertSpec(Section):
    """Alerts on the platform's Kubernetes objects (the `monitoring:kubernetes` section).

    Defaults follow kubernetes-mixin (alerts/apps_alerts.libsonnet,
    alerts/kubelet.libsonnet): 15 minutes for a state to count, a 10-minute
    window for "the rollout made no progress". Only stacks with Kubernetes
    discovery get these rules.
    """

    namespaces: tuple[str, ...] = Field(
        default=(),
        description="namespaces whose workloads page; empty: every namespace the service catalog scrapes plus the "
        "collection's (list kube-system here to watch it too)",
    )
    workload_services: dict[str, str] = Field(
        default_factory=dict,
        description="workload-name prefix -> catalog service, added to the defaults (each catalog service's name and "
        "scrape.k8sService); see docs/runbooks.md 'Kubernetes workloads' for the mapping",
    )
    crash_loop_restarts: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description="container restarts within crashLoopWindowMinutes that count as a crash loop",
    )
    crash_loop_window_minutes: int = Field(default=15, ge=1, le=1440)
    crash_loop_for_minutes: int = Field(default=15, ge=0, le=1440)
    oom_kill_window_minutes: int = Field(
        default=10, ge=1, le=1440, description="an OOM kill counts while a restart happened within this window"
    )
    pod_not_ready_for_minutes: int = Field(default=15, ge=1, le=1440, description="Pending, Unknown or not Ready")
    replicas_mismatch_for_minutes: int = Field(default=15, ge=1, le=1440)
    rollout_progress_window_minutes: int = Field(
        default=10, ge=1, le=1440, description="no updated replica within this window means no rollout is moving"
    )
    rollout_stuck_for_minutes: int = Field(default=15, ge=1, le=1440)
    workload_down_for_minutes: int = Field(
        default=5, ge=1, le=1440, description="no available replica for this long pages"
    )
    node_not_ready_for_minutes: int = Field(default=15, ge=1, le=1440)
    node_pressure_for_minutes: int = Field(default=10, ge=1, le=1440)
    job_failed_for_minutes: int = Field(default=15, ge=0, le=1440)
    cron_job_late_minutes: int = Field(
        default=15, ge=1, le=10080, description="a CronJob this late past its next schedule time has missed a run"
    )
    hpa_maxed_out_for_minutes: int = Field(default=15, ge=1, le=1440)

    @field_validator("namespaces")
    @classmethod
    def _are_namespace_names(cls, namespaces: tuple[str, ...]) -> tuple[str, ...]:
        for namespace in namespaces:
            if not re.match(K8S_NAME, namespace):
                raise ValueError(f"'{namespace}' is not a Kubernetes namespace name")
        if len(set(namespaces)) != len(namespaces):
            raise ValueError(f"namespaces {list(namespaces)} lists a namespace twice")
        return namespaces

    @field_validator("workload_services")
    @classmethod
    def _prefixes_are_workload_names(cls, mapping: dict[str, str]) -> dict[str, str]:
        for prefix in mapping:
            if not re.match(K8S_NAME, prefix):
                raise ValueError(f"workload prefix '{prefix}' is not a Kubernetes object name (a-z, 0-9, '-')")
        return mapping
