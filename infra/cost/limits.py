"""AMP label-set limits derived from the cardinality model.

A limit per `service` label value caps what one runaway exporter or label
can do to the whole workspace: past it, AMP drops only that service's new
series. The limit is the modelled series times the stack's headroom, rounded
up to a thousand (so that a small change of the model does not rewrite the
workspace configuration) and never below the stack's floor.
"""

from __future__ import annotations

import math

from infra.cost.model import Cardinality

ROUND_TO = 1000


def series_limit(series: int, headroom: float, floor: int) -> int:
    return max(floor, math.ceil(series * headroom / ROUND_TO) * ROUND_TO)


def label_set_limits(model: Cardinality, headroom: float, floor: int) -> dict[str, int]:
    """`service` label value -> max series, for every service the model knows."""
    return {
        service: series_limit(series, headroom, floor) for service, series in sorted(model.series_by_service().items())
    }
