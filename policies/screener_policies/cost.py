"""The stack's modelled AMP cost stays within the budget its stack file sets.

The program computes the estimate (infra/cost: cardinality model x the stack
file's price table) and declares it as the `CostEstimate` component, whose
inputs are the estimate; this policy only compares, so the pack keeps to the
standard library and pulumi_policy.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs, StackValidationPolicy

from screener_policies.common import is_mapping, stack_of

ESTIMATE_COMPONENT = "monitoring:index:CostEstimate"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def amp_cost_within_budget(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type != ESTIMATE_COMPONENT:
            continue  # a stack file with no cost section declares none: no prices, no budget to hold
        estimate = resource.props
        usd = _number(estimate.get("usdPerMonth")) if is_mapping(estimate) else None
        budget = _number(estimate.get("budgetUsdPerMonth")) if is_mapping(estimate) else None
        if usd is None or budget is None:
            report_violation(
                f"the cost estimate {estimate!r} has no numeric usdPerMonth and budgetUsdPerMonth, so the budget "
                "cannot be checked. Fix: declare the CostEstimate component with infra.cost's CostEstimate.summary().",
                resource.urn,
            )
            continue
        if usd > budget:
            assert is_mapping(estimate)
            series, samples, queried = (
                _number(estimate.get(key)) or 0.0 for key in ("activeSeries", "samplesPerMonth", "querySamplesPerMonth")
            )
            report_violation(
                f"the modelled AMP cost is ${usd:,.2f}/month, over this stack's budget of ${budget:,.2f}/month "
                f"({series:,.0f} active series, {samples:,.0f} samples ingested and {queried:,.0f} query samples a "
                f"month; prices {estimate.get('pricing')}). Fix: see where the series come from with "
                f"`make cost STACK={stack_of(resource.urn)}` and cut them (labels, replicas, keep-lists, scrape "
                "interval), or raise monitoring:cost.budgetUsdPerMonth in the stack file.",
                resource.urn,
            )


POLICIES = [
    StackValidationPolicy(
        name="amp-cost-within-budget",
        description="The AMP cost modelled from the service catalog (series, samples, queries) stays within the "
        "stack's monitoring:cost.budgetUsdPerMonth.",
        validate=amp_cost_within_budget,
    ),
]
