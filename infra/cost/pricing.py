"""AMP's bill for a modelled stack, from the price table in the stack file."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from infra.config.cost import PricingSpec
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
            "pricing": f"{self.pricing.region} as of {self.pricing.as_of} ({self.pricing.source})",
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


def estimate(settings: StackInput, model: Cardinality) -> CostEstimate | None:
    """The stack's estimate, or None when its stack file has no `cost` section (no prices, no budget)."""
    cost = settings.cost
    if cost is None:
        return None
    return CostEstimate(
        model,
        bill(model, cost.pricing, settings.amp.retention_days),
        cost.budget_usd_per_month,
        cost.pricing,
        # Logs are collected only where there is a cluster (infra/program.py declare_logs).
        logs_bill(settings.logs, collected=settings.collection.cluster_name is not None),
    )
