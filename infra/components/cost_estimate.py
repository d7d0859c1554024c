"""The stack's modelled monitoring cost, as a resource the policy pack can read.

A Pulumi policy sees the resources of a deployment, not its stack outputs, so
the budget check (`amp-cost-within-budget`) needs the estimate on a resource.
This component declares no cloud resource: its inputs and outputs are the
estimate (`CostEstimate.summary()` from infra/cost), so it also shows in
`pulumi stack --show-urns` and in the state, next to what it prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

COST_ESTIMATE_TYPE = "monitoring:index:CostEstimate"


class CostEstimate(pulumi.ComponentResource):
    """The modelled monthly cost and the budget it is checked against."""

    def __init__(self, name: str, summary: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COST_ESTIMATE_TYPE, name, dict(summary), opts)
        self.register_outputs(dict(summary))
