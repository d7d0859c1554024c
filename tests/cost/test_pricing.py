"""The bill from the stack file's price table, and the config that holds it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.config.cost import CostSpec, PricingSpec
from infra.cost.model import cardinality
from infra.cost.pricing import estimate, ingestion_usd, stored_gb
from tests.cost.helpers import PRICING, small_catalog

TIERS = PricingSpec.model_validate(PRICING)


def test_ingestion_inside_the_first_tier_costs_its_rate() -> None:
    # 1 billion samples = 100 x 10M at $0.90
    assert ingestion_usd(1e9, TIERS) == pytest.approx(90.0)


def test_ingestion_across_tiers_prices_each_slice_at_its_own_rate() -> None:
    # 2 billion at $0.90 per 10M, then 1 billion at $0.35 per 10M
    assert ingestion_usd(3e9, TIERS) == pytest.approx(200 * 0.90 + 100 * 0.35) == 215.0
    # past the second bound (252 billion): 2e9 at 0.90, 250e9 at 0.35, 48e9 at 0.16
    assert ingestion_usd(300e9, TIERS) == pytest.approx(180 + 25_000 * 0.35 + 4_800 * 0.16)


def test_storage_holds_the_retention_window_at_the_bytes_per_sample() -> None:
    days = 730 / 24
    # 1e9 samples a month = 1e9 / 30.4 a day, kept 15 days, 2 bytes each, in GiB
    assert stored_gb(1e9, 15, 2) == pytest.approx(1e9 / days * 15 * 2 / 2**30)


def test_small_catalog_bill_adds_ingestion_storage_and_query() -> None:
    settings = small_catalog()
    cost = estimate(settings, cardinality(settings, {}, {}), "us-east-1")
    assert cost is not None
    samples = 322 * 730 * 3600 / 30  # 28,207,200: all in the first tier
    assert cost.bill.ingestion_usd == pytest.approx(samples / 1e7 * 0.90)
    assert cost.bill.query_usd == 0  # no rules, no dashboards
    assert cost.bill.storage_usd == pytest.approx(stored_gb(samples, 15, 2) * 0.03)
    assert cost.summary()["usdPerMonth"] == round(cost.bill.total_usd, 2) == 2.54
    assert cost.within_budget  # budget 10


def test_stack_without_a_cost_section_has_no_estimate() -> None:
    settings = small_catalog().model_copy(update={"cost": None})
    assert estimate(settings, cardinality(settings, {}, {}), "us-east-1") is None


def test_an_open_tier_before_the_last_is_refused() -> None:
    tiers = [{"usdPer10MSamples": 0.9}, {"usdPer10MSamples": 0.3}]
    with pytest.raises(ValidationError, match="every ingestion tier but the last needs an upToSamples"):
        PricingSpec.model_validate({**PRICING, "ingestionTiers": tiers})


def test_an_unknown_label_override_names_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown label\(s\) \['endpoints'\]; the model knows .*'endpoint'"):
        CostSpec.model_validate({"pricing": PRICING, "budgetUsdPerMonth": 1, "labelValues": {"endpoints": 40}})
