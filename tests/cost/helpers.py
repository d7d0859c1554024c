"""A small catalog whose series the tests count by hand."""

from __future__ import annotations

from typing import Any

from infra.config.label_values import LABEL_VALUES
from infra.config.model import StackInput
from infra.config.stackfile import stack_settings

AMP_DATASOURCE = {"type": "grafana-amazonprometheus-datasource", "uid": "${datasource}"}
PRICING = {
    "source": "https://aws.amazon.com/prometheus/pricing/",
    "asOf": "2026-11-26",
    "region": "us-east-1",
    "ingestionTiers": [
        {"upToSamples": 2_000_000_000, "usdPer10MSamples": 0.90},
        {"upToSamples": 252_000_000_000, "usdPer10MSamples": 0.35},
        {"usdPer10MSamples": 0.16},
    ],
    "storageUsdPerGbMonth": 0.03,
    "queryUsdPerBillionSamples": 0.10,
    "bytesPerSample": 2,
}


def small_catalog(**cost: Any) -> StackInput:
    """dev's settings with two scraped services: `api` on two static targets, `redis` on one.

    Every label takes one value except method (2), endpoint (3) and status_code (2).
    """
    raw = stack_settings("dev").model_dump(by_alias=True, exclude_none=True)
    raw["services"] = [
        {"name": "api", "kind": "api", "scrape": {"port": 8000, "staticTargets": ["api-a:8000", "api-b:8000"]}},
        {"name": "redis", "kind": "redis", "scrape": {"port": 9121, "staticTargets": ["redis:9121"]}},
    ]
    raw["collection"] = {"mode": "none", "discovery": "static", "scrapeIntervalSeconds": 30}
    # A public API must be probed from outside (the model refuses it otherwise); an extra synthetic
    # check does it without adding AMP rules (its results live in Grafana Cloud), so the counts stay.
    raw["synthetics"] = {
        **raw["synthetics"],
        "checks": [{"name": "home", "service": "api", "url": "https://api.example.com/"}],
    }
    label_values = {name: 1 for name in LABEL_VALUES} | {"method": 2, "endpoint": 3, "status_code": 2}
    raw["cost"] = {
        "pricing": PRICING,
        "budgetUsdPerMonth": 10,
        "labelValues": label_values,
        "dashboardViewingHoursPerDay": 8,
        **cost,
    }
    raw["amp"] = {**raw.get("amp", {}), "retentionDays": 15}
    return StackInput.model_validate(raw)
