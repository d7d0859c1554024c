"""Cost section: the stack's budget, the cardinality model's deployment facts and, optionally, its own prices.

Prices are data, never code: they change, differ by region, and whoever
reviews a budget must see which table it was checked against (`source`,
`asOf`). Every stack shares the tables in infra/cost/amp_prices.yaml (the one
for its `aws:region`); a stack file may set its own `pricing` instead.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from infra.config.base import HttpsUrl, IsoDate, Section
from infra.config.core import MAX_ACTIVE_SERIES
from infra.config.label_values import LABEL_VALUES

# The quota alarms exist with or without a cost section; this is their threshold when none sets it.
DEFAULT_USAGE_ALARM_PERCENT = 80.0


class IngestionTier(Section):
    """One tier of the ingestion price: samples beyond the previous tier, up to `upToSamples` a month."""

    up_to_samples: int | None = Field(
        default=None,
        ge=1,
        le=10**18,
        description="upper bound of the tier in samples per month; absent on the last tier",
    )
    usd_per_10m_samples: float = Field(
        alias="usdPer10MSamples", ge=0, le=1000, description="price per 10 million samples"
    )


class PricingSpec(Section):
    """AMP's published prices (copy them from `source`; the estimate is only as current as `asOf`)."""

    source: HttpsUrl = Field(description="where the prices were read (the AMP pricing page)")
    as_of: IsoDate = Field(description="date the prices were read, YYYY-MM-DD")
    region: str = Field(
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="AWS region the prices are for (AMP prices differ by region)"
    )
    ingestion_tiers: tuple[IngestionTier, ...] = Field(min_length=1, description="ingestion price tiers, cheapest last")
    storage_usd_per_gb_month: float = Field(alias="storageUsdPerGbMonth", ge=0, le=1000)
    query_usd_per_billion_samples: float = Field(alias="queryUsdPerBillionSamples", ge=0, le=1000)
    bytes_per_sample: float = Field(
        default=2.0,
        gt=0,
        le=16,
        description="stored bytes per sample; the pricing page says samples are typically 1 or 2 bytes",
    )

    @field_validator("ingestion_tiers")
    @classmethod
    def _tiers_ascend_and_end_open(cls, tiers: tuple[IngestionTier, ...]) -> tuple[IngestionTier, ...]:
        bounds = [tier.up_to_samples for tier in tiers]
        if bounds[-1] is not None:
            raise ValueError("the last ingestion tier must have no upToSamples (it prices everything above)")
        closed = [bound for bound in bounds[:-1] if bound is not None]
        if len(closed) != len(bounds) - 1 or closed != sorted(set(closed)):
            raise ValueError("every ingestion tier but the last needs an upToSamples, in increasing order")
        return tiers


class PriceTables(Section):
    """infra/cost/amp_prices.yaml: AMP's prices per region, shared by every stack."""

    fallback_region: str = Field(description="whose table prices a stack whose region has none (with a warning)")
    tables: tuple[PricingSpec, ...] = Field(min_length=1)

    @field_validator("tables")
    @classmethod
    def _one_table_per_region(cls, tables: tuple[PricingSpec, ...]) -> tuple[PricingSpec, ...]:
        regions = [table.region for table in tables]
        if len(set(regions)) != len(regions):
            raise ValueError(f"one table per region, got {regions}")
        return tables

    def for_region(self, region: str) -> PricingSpec | None:
        return next((table for table in self.tables if table.region == region), None)


class CostSpec(Section):
    """Cost and cardinality: what the monitoring will cost before it runs, and the guard rails."""

    pricing: PricingSpec | None = Field(
        default=None,
        description="this stack's own AMP price table; default: the table for aws:region in infra/cost/amp_prices.yaml",
    )
    budget_usd_per_month: float = Field(
        alias="budgetUsdPerMonth",
        gt=0,
        le=10_000_000,
        description="the plan fails (policy amp-cost-within-budget) above this",
    )
    label_values: dict[str, int] = Field(
        default_factory=dict,
        description="label-value counts that override the model's assumptions (infra/config/label_values.py), "
        "e.g. {endpoint: 40, node: 5}",
    )
    dashboard_viewing_hours_per_day: float = Field(
        default=8, ge=0, le=24, description="hours a day one person has the dashboards open (query cost)"
    )
    series_limit_headroom: float = Field(
        default=2.0, ge=1, le=100, description="AMP label-set limit per service = modelled series x this"
    )
    series_limit_floor: int = Field(
        default=1000,
        ge=1,
        le=MAX_ACTIVE_SERIES,
        description="smallest label-set limit, so a small service can still grow a little",
    )
    usage_alarm_percent: float = Field(
        default=DEFAULT_USAGE_ALARM_PERCENT,
        gt=0,
        le=100,
        description="alarm when active series or ingestion rate reach this % of quota",
    )

    @field_validator("label_values")
    @classmethod
    def _known_labels(cls, values: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(values) - set(LABEL_VALUES))
        if unknown:
            raise ValueError(f"unknown label(s) {unknown}; the model knows {sorted(LABEL_VALUES)}")
        negative = sorted(name for name, count in values.items() if count < 1)
        if negative:
            raise ValueError(f"label-value counts must be at least 1 ({negative})")
        # One label with more values than a workspace can hold series is a typo, not a model.
        huge = sorted(name for name, count in values.items() if count > MAX_ACTIVE_SERIES)
        if huge:
            raise ValueError(f"label-value counts must be at most {MAX_ACTIVE_SERIES:,} ({huge})")
        return values
