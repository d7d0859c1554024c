"""Logs section: where every service's lines go, how long they are kept, what they cost and when they alert."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from infra.config.base import K8S_NAME, HttpsUrl, IsoDate, Section
from infra.config.core import LogRetentionDays
from infra.logs.contract import LogFormat


class LogSourceSpec(Section):
    """One container whose lines follow a format of the log contract (infra/logs/contract.py)."""

    service: str = Field(description="the catalog service the lines belong to (their `service` field)")
    format: LogFormat = Field(description="backend (JSON), nginx (JSON log_format) or postgres (stderr text)")
    namespace: str = Field(default="screener", pattern=K8S_NAME, description="Kubernetes namespace of the pods")
    container: str = Field(pattern=K8S_NAME, description="container name in those pods")
    gb_per_day: float = Field(
        alias="gbPerDay", ge=0, le=10000, description="log volume this source writes per day (cost model)"
    )


class LogPricingSpec(Section):
    """CloudWatch Logs prices (copy them from `source`; the estimate is only as current as `asOf`)."""

    source: HttpsUrl = Field(description="where the prices were read (the CloudWatch pricing page)")
    as_of: IsoDate = Field(description="date the prices were read, YYYY-MM-DD")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="AWS region the prices are for")
    ingestion_usd_per_gb: float = Field(alias="ingestionUsdPerGb", ge=0, description="Standard class, collected")
    storage_usd_per_gb_month: float = Field(alias="storageUsdPerGbMonth", ge=0, description="archived (compressed)")
    storage_compression_ratio: float = Field(
        default=0.15,
        gt=0,
        le=1,
        description="stored bytes per ingested byte; CloudWatch bills storage after compression",
    )


class ErrorBurstSpec(Section):
    """When a service's error lines become an alert (one CloudWatch alarm per service)."""

    errors_per_period: int = Field(default=20, ge=1, description="error lines in one period that make the period 'bad'")
    period_minutes: int = Field(default=5, ge=1, le=60, description="length of one period")
    bad_periods: int = Field(default=2, ge=1, description="bad periods, within evaluationPeriods, that alarm")
    evaluation_periods: int = Field(default=3, ge=1, le=24, description="periods the alarm looks back over")

    @model_validator(mode="after")
    def _bad_within_evaluated(self) -> ErrorBurstSpec:
        if self.bad_periods > self.evaluation_periods:
            raise ValueError(
                f"badPeriods ({self.bad_periods}) cannot exceed evaluationPeriods ({self.evaluation_periods})"
            )
        return self


class LogsSpec(Section):
    """Container logs to CloudWatch Logs in this account, searched from Grafana (needs collection.clusterName)."""

    retention_days: LogRetentionDays = Field(
        default=30, description="CloudWatch retention of every log group (the spec: 30)"
    )
    sources: tuple[LogSourceSpec, ...] = Field(
        default=(), description="containers whose lines the contract parses; every other container is kept unparsed"
    )
    other_containers_gb_per_day: float = Field(
        default=0.5, ge=0, le=10000, description="volume of every other container together (cost model)"
    )
    volume_source: str = Field(
        default="assumed",
        min_length=1,
        description="where the gbPerDay figures come from (a measurement, or 'assumed')",
    )
    error_burst: ErrorBurstSpec = ErrorBurstSpec()
    pricing: LogPricingSpec | None = Field(default=None, description="CloudWatch Logs prices; no log cost without")

    @field_validator("sources")
    @classmethod
    def _one_entry_per_container(cls, sources: tuple[LogSourceSpec, ...]) -> tuple[LogSourceSpec, ...]:
        seen: dict[tuple[str, str], str] = {}
        services: set[str] = set()
        for source in sources:
            key = (source.namespace, source.container)
            if key in seen:
                raise ValueError(
                    f"sources '{seen[key]}' and '{source.service}' both read container {key[0]}/{key[1]}; "
                    "give each its own container"
                )
            if source.service in services:
                raise ValueError(f"service '{source.service}' is listed twice; one entry per service")
            seen[key] = source.service
            services.add(source.service)
        return sources
