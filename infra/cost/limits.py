"""AMP label-set limits: the stack file's own, and one per service derived from the cardinality model.

A limit per `service` label value caps what one runaway exporter or label
can do to the whole workspace: past it, AMP drops only that service's new
series. The limit is the modelled series times the stack's headroom, rounded
up to a thousand (so that a small change of the model does not rewrite the
workspace configuration) and never below the stack's floor. A label set the
stack file limits itself (`monitoring:amp.labelSetLimits`) keeps its number.
"""

from __future__ import annotations

import math

from infra.config.model import StackInput
from infra.cost.model import Cardinality

ROUND_TO = 1000


def series_limit(series: int, headroom: float, floor: int) -> int:
    return max(floor, math.ceil(series * headroom / ROUND_TO) * ROUND_TO)


def label_set_limits(model: Cardinality, headroom: float, floor: int) -> dict[str, int]:
    """`service` label value -> max series, for every service the model knows."""
    return {
        service: series_limit(series, headroom, floor) for service, series in sorted(model.series_by_service().items())
    }


def workspace_label_set_limits(settings: StackInput, model: Cardinality) -> list[tuple[dict[str, str], int]]:
    """(label set, max series) of every limit the workspace gets: the stack file's, then the derived ones."""
    explicit = [(dict(limit.label_set), limit.max_series) for limit in settings.amp.label_set_limits]
    cost = settings.cost
    if cost is None:
        return explicit
    taken = {tuple(sorted(label_set.items())) for label_set, _ in explicit}
    derived = [
        ({"service": service}, max_series)
        for service, max_series in label_set_limits(model, cost.series_limit_headroom, cost.series_limit_floor).items()
        if (("service", service),) not in taken
    ]
    return explicit + derived
