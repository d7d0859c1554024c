"""CloudWatch Logs' bill for a stack: ingestion and storage of every log group, from the stack file's volumes.

The volumes are assumptions (`monitoring:logs.sources[].gbPerDay`,
`otherContainersGbPerDay`, with `volumeSource` saying where they come from);
the prices are the stack file's `monitoring:logs.pricing`. Logs Insights
queries ($ per GB scanned) are not counted: they depend on who searches what.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.logs import LogPricingSpec, LogsSpec
from infra.cost.assumptions import HOURS_PER_MONTH
from infra.logs.fluent_bit import GROUP_OF_FORMAT, OTHER_GROUP

DAYS_PER_MONTH = HOURS_PER_MONTH / 24


@dataclass(frozen=True)
class LogsBill:
    gb_per_day_by_service: dict[str, float]
    gb_per_day_by_group: dict[str, float]
    ingested_gb_per_month: float
    stored_gb: float
    ingestion_usd: float
    storage_usd: float
    pricing: LogPricingSpec
    volume_source: str

    @property
    def total_usd(self) -> float:
        return self.ingestion_usd + self.storage_usd


def logs_bill(spec: LogsSpec, collected: bool) -> LogsBill | None:
    """None where nothing is collected (no cluster) or the stack file has no log prices."""
    if not collected or spec.pricing is None:
        return None
    by_service = {source.service: source.gb_per_day for source in spec.sources}
    by_group: dict[str, float] = {}
    for source in spec.sources:
        group = GROUP_OF_FORMAT[source.format]
        by_group[group] = by_group.get(group, 0.0) + source.gb_per_day
    by_group[OTHER_GROUP] = spec.other_containers_gb_per_day
    per_day = sum(by_group.values())
    ingested = per_day * DAYS_PER_MONTH
    # Steady state once the retention window is full: every day of it, compressed as CloudWatch stores it.
    stored = per_day * spec.retention_days * spec.pricing.storage_compression_ratio
    return LogsBill(
        gb_per_day_by_service=by_service,
        gb_per_day_by_group=by_group,
        ingested_gb_per_month=ingested,
        stored_gb=stored,
        ingestion_usd=ingested * spec.pricing.ingestion_usd_per_gb,
        storage_usd=stored * spec.pricing.storage_usd_per_gb_month,
        pricing=spec.pricing,
        volume_source=spec.volume_source,
    )
