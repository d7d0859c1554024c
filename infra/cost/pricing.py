"""AMP's bill for a modelled stack, from the price table of the stack's region."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.config.cost import PriceTables, PricingSpec
from infra.config.model import StackInput
from infra.cost.assumptions import HOURS_PER_MONTH
from infra.cost.logs import LogsBill, logs_bill
from infra.cost.model import Cardinality

GIB = 2**30


@dataclass(frozen=True)
class Bill:
    ingestion_usd: float
    storage_usd: float
    query_usd: float
    stored_gb: float

    @property
    def total_usd(self) -> float:
        return self.ingestion_usd + self.storage_usd + self.query_usd


def ingestion_usd(samples_per_month: float, pricing: PricingSpec) -> float:
    """Tiered: each tier prices the samples between the previous tier's bound and its own."""
    total = 0.0
    floor = 0.0
    for tier in pricing.ingestion_tiers:
        ceiling = math.inf if tier.up_to_samples is None else float(tier.up_to_samples)
        in_tier = max(0.0, min(samples_per_month, ceiling) - floor)
        total += in_tier / 10_000_000 * tier.usd_per_10m_samples
        floor = ceiling
        if samples_per_month <= ceiling:
            break
    return total


def stored_gb(samples_per_month: float, retention_days: int, bytes_per_sample: float) -> float:
    """Steady state, once the retention window is full: every sample of the window, at its stored size."""
    samples_per_day = samples_per_month / (HOURS_PER_MONTH / 24)
    return samples_per_day * retention_days * bytes_per_sample / GIB


def bill(model: Cardinality, pricing: PricingSpec, retention_days: int) -> Bill:
    stored = stored_gb(model.ingested_samples_per_month, retention_days, pricing.bytes_per_sample)
    return Bill(
        ingestion_usd=ingestion_usd(model.ingested_samples_per_month, pricing),
        storage_usd=stored * pricing.storage_usd_per_gb_month,
        query_usd=model.query_samples_per_month / 1e9 * pricing.query_usd_per_billion_samples,
        stored_gb=stored,
    )


@dataclass(frozen=True)
class CostEstimate:
    """The model, its bill (AMP, and CloudWatch Logs where logs are collected) and the budget it is checked against."""

    model: Cardinality
    bill: Bill
    budget_usd_per_month: float
    pricing: PricingSpec
    region: str
    logs: LogsBill | None = None

    @property
    def total_usd(self) -> float:
        return self.bill.total_usd + (self.logs.total_usd if self.logs is not None else 0.0)

    @property
    def within_budget(self) -> bool:
        return self.total_usd <= self.budget_usd_per_month

    def summary(self) -> dict[str, Any]:
        """The stack output `cost_estimate`, which the policy amp-cost-within-budget reads."""
        return {
            "activeSeries": self.model.active_series,
            "samplesPerMonth": round(self.model.ingested_samples_per_month),
            "querySamplesPerMonth": round(self.model.query_samples_per_month),
            "usdPerMonth": round(self.total_usd, 2),
            "budgetUsdPerMonth": self.budget_usd_per_month,
            "pricing": f"{self.pricing.region} as of {self.pricing.as_of} ({self.pricing.source})"
            + (f"; {note}" if (note := stand_in_note(self.pricing, self.region)) else ""),
        } | (
            {
                "ampUsdPerMonth": round(self.bill.total_usd, 2),
                "logsUsdPerMonth": round(self.logs.total_usd, 2),
                "logsGbPerDay": round(sum(self.logs.gb_per_day_by_group.values()), 3),
                "logsPricing": (
                    f"{self.logs.pricing.region} as of {self.logs.pricing.as_of} ({self.logs.pricing.source})"
                ),
            }
            if self.logs is not None
            else {}
        )


PRICE_TABLES_FILE = Path(__file__).with_name("amp_prices.yaml")


@cache
def price_tables(path: Path = PRICE_TABLES_FILE) -> PriceTables:
    """The shared AMP price tables (read once)."""
    return PriceTables.model_validate(yaml.safe_load(path.read_text()))


def pricing_for(settings: StackInput, region: str) -> PricingSpec | None:
    """The prices a stack is billed with: its own table, else its region's, else the fallback region's."""
    if settings.cost is None:
        return None
    if settings.cost.pricing is not None:
        return settings.cost.pricing
    tables = price_tables()
    chosen = tables.for_region(region) or tables.for_region(tables.fallback_region)
    if chosen is None:
        raise ValueError(f"{PRICE_TABLES_FILE.name}: fallbackRegion {tables.fallback_region} has no table")
    return chosen


def stand_in_note(pricing: PricingSpec, region: str) -> str | None:
    """What the cost line adds when a stack in `region` is priced with another region's table.

    Said once, in the estimate itself (the plan's cost line, `make cost`, the stack output), not as a
    warning on every plan: a warning nobody can act on today teaches people to skip warnings.
    """
    if pricing.region == region:
        return None
    return (
        f"{region} has no table in infra/cost/{PRICE_TABLES_FILE.name}, so {pricing.region}'s prices stand in "
        f"(add {region}'s from {pricing.source})"
    )


def estimate(settings: StackInput, model: Cardinality, region: str) -> CostEstimate | None:
    """The stack's estimate in `region`, or None when its stack file has no `cost` section (no budget)."""
    pricing = pricing_for(settings, region)
    if settings.cost is None or pricing is None:
        return None
    return CostEstimate(
        model,
        bill(model, pricing, settings.amp.retention_days),
        settings.cost.budget_usd_per_month,
        pricing,
        region,
        # Logs are collected only where the stack runs on a cluster (infra/program.py declare_logs).
        logs_bill(settings.logs, collected=settings.collection.runs_in_cluster),
    )
