"""CloudWatch Logs in the cost model and the budget (prices and volumes from the stack file)."""

from __future__ import annotations

import pytest

from infra.config.logs import LogsSpec
from infra.config.stackfile import stack_settings
from infra.cost.logs import logs_bill
from tests.conftest import plan_of

PRICING = {
    "source": "https://aws.amazon.com/cloudwatch/pricing/",
    "asOf": "2026-11-29",
    "region": "us-east-1",
    "ingestionUsdPerGb": 0.5,
    "storageUsdPerGbMonth": 0.03,
}


def test_bill_is_volume_times_price_worked_by_hand() -> None:
    spec = LogsSpec.model_validate(
        {
            "retentionDays": 30,
            "sources": [
                {"service": "api", "format": "backend", "container": "backend", "gbPerDay": 2.0},
                {"service": "nginx", "format": "nginx", "container": "nginx", "gbPerDay": 1.0},
            ],
            "otherContainersGbPerDay": 1.0,
            "pricing": PRICING,
        }
    )
    bill = logs_bill(spec, collected=True)
    assert bill is not None
    # 4 GB/day x 730/24 days = 121.666 GB/month x $0.50 = $60.83
    assert bill.ingested_gb_per_month == pytest.approx(121.6667, rel=1e-4)
    assert bill.ingestion_usd == pytest.approx(60.8333, rel=1e-4)
    # 4 GB/day x 30 days x 0.15 compressed = 18 GB x $0.03 = $0.54
    assert bill.stored_gb == pytest.approx(18.0) and bill.storage_usd == pytest.approx(0.54)
    assert bill.gb_per_day_by_group == {"application": 2.0, "nginx-access": 1.0, "containers": 1.0}
    assert logs_bill(spec, collected=False) is None


def test_prod_estimate_adds_logs_to_amp_and_the_budget_checks_the_sum() -> None:
    settings = stack_settings("prod")
    logs = logs_bill(settings.logs, collected=True)
    assert logs is not None
    summary = plan_of("prod").outputs["cost_estimate"]
    assert summary["logsUsdPerMonth"] == round(logs.total_usd, 2) > 0
    # Each part is rounded to the cent on its own: the sum may differ from the rounded total by one cent.
    assert summary["usdPerMonth"] == pytest.approx(summary["ampUsdPerMonth"] + summary["logsUsdPerMonth"], abs=0.0101)
    assert summary["logsGbPerDay"] == pytest.approx(5.4)  # 2.5 + 0.3 + 1.5 + 0.1 + 1.0 other containers
    assert summary["usdPerMonth"] <= summary["budgetUsdPerMonth"]


def test_dev_without_a_cluster_pays_for_no_logs() -> None:
    assert "logsUsdPerMonth" not in plan_of("dev").outputs["cost_estimate"]
