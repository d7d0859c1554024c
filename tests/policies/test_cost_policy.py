"""The budget policy: the modelled AMP cost must stay within the stack's budget."""

from __future__ import annotations

from typing import Any

from pulumi_policy import StackValidationArgs
from screener_policies.cost import amp_cost_within_budget

from infra.config.stackfile import stack_settings
from planner.engine import Plan
from planner.policy_check import check_plan
from tests.conftest import plan_of
from tests.policies.support import stack_resource

ESTIMATE = {
    "activeSeries": 13687,
    "samplesPerMonth": 1_198_017_600,
    "querySamplesPerMonth": 494_852_424_333,
    "usdPerMonth": 157.5,
    "budgetUsdPerMonth": 200,
    "pricing": "us-east-1 as of 2026-11-26 (https://aws.amazon.com/prometheus/pricing/)",
}


def reported(estimate: Any) -> list[tuple[str, str]]:
    # None: a stack file with no cost section, which declares no CostEstimate.
    args = StackValidationArgs(
        [] if estimate is None else [stack_resource("monitoring:index:CostEstimate", "cost-estimate", estimate)]
    )
    found: list[tuple[str, str]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append((message, urn or ""))

    amp_cost_within_budget(args, report_violation)
    return found


def test_estimate_within_budget_passes() -> None:
    assert reported(ESTIMATE) == []


def test_estimate_exactly_at_the_budget_passes() -> None:
    assert reported({**ESTIMATE, "usdPerMonth": 200.0}) == []


def test_estimate_over_budget_is_refused_with_the_numbers_and_the_fix() -> None:
    ((message, urn),) = reported({**ESTIMATE, "budgetUsdPerMonth": 100})
    assert message.startswith("the modelled AMP cost is $157.50/month, over this stack's budget of $100.00/month")
    assert "13,687 active series, 1,198,017,600 samples ingested" in message
    assert "`make cost STACK=dev`" in message and "monitoring:cost.budgetUsdPerMonth" in message
    assert urn.endswith("monitoring:index:CostEstimate::cost-estimate")


def test_estimate_without_numbers_is_refused() -> None:
    ((message, _),) = reported({"usdPerMonth": "cheap"})
    assert "has no numeric usdPerMonth and budgetUsdPerMonth" in message


def test_stack_without_a_cost_section_has_nothing_to_check() -> None:
    assert reported(None) == []


def test_dev_plan_over_a_lowered_budget_is_blocked(plan_with: Any) -> None:
    settings = stack_settings("dev")
    assert settings.cost is not None
    cost = settings.cost.model_dump(by_alias=True, exclude_none=True) | {"budgetUsdPerMonth": 1}
    plan: Plan = plan_with("dev", {"monitoring:cost": cost})
    report = check_plan(plan)
    (violation,) = [v for v in report.blocking if v.policy == "amp-cost-within-budget"]
    assert "over this stack's budget of $1.00/month" in violation.message


def test_the_budget_policy_refuses_amp_and_logs_over_budget_and_names_both() -> None:
    """The planned prod estimate, with its budget lowered below AMP + logs but above AMP alone."""
    summary = dict(plan_of("prod").outputs["cost_estimate"])
    summary["budgetUsdPerMonth"] = summary["ampUsdPerMonth"] + 1
    ((message, _),) = reported(summary)
    assert message.startswith(f"the modelled AMP and CloudWatch Logs cost is ${summary['usdPerMonth']:,.2f}/month")
    assert "log volume or retention" in message
