"""Which values of an offline plan the fakes invented.

IDs, ARNs, endpoint URLs and the account number in a plan come from
planner/fakes (shaped like the real ones); `pulumi up` reports the real ones.
The planner marks every value that contains one, in the tree, the outputs and
plan.json, so that nobody copies a simulated ARN.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from planner.engine import Plan
from planner.fakes import FAKE_ACCOUNT_ID

SIMULATED_NOTE = (
    "IDs, ARNs, endpoint URLs and the account number 123456789012 in this plan are simulated by the offline "
    "planner (planner/fakes), shaped like the real ones; `pulumi up` reports the real values"
)
# What the fakes invent always carries a pseudo-random hex run (FakeContext.token / uuid, Pulumi-style
# auto-name suffixes); IDs they merely compose from names the program chose (a dashboard's uid, a Helm
# release's namespace/name) are predictable, not simulated.
_INVENTED = re.compile(r"[0-9A-Fa-f]{7,}")
# A numeric ID, or Grafana's `<orgId>:<id>` (a service account's ID in the grafana provider).
_NUMERIC_ID = re.compile(r"\d+(:\d+)*")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def simulated_tokens(plan: Plan) -> frozenset[str]:
    """The invented parts of every value a fake computed (physical IDs, outputs the inputs do not hold).

    A numeric ID (a Synthetic Monitoring check's, a Grafana service account's `1:56245`) is kept whole,
    prefixed with `=`: it marks only an equal value.
    """
    found: set[str] = set()
    for resource in plan.resources:
        if not resource.custom:
            continue
        given = set(_strings(resource.inputs))
        for value in (resource.simulated_id, *_strings(resource.outputs)):
            if value in given:
                continue
            if _NUMERIC_ID.fullmatch(value) and sum(c.isdigit() for c in value) >= 5:
                found.add(f"={value}")
            found.update(run for run in _INVENTED.findall(value) if any(c.isdigit() for c in run))
    return frozenset(found)


class SimulatedMarker:
    """Tells whether a value contains something simulated (a fake's value or the fake account)."""

    def __init__(self, tokens: frozenset[str]) -> None:
        self._whole = {token[1:] for token in tokens if token.startswith("=")}
        parts = sorted({*(t for t in tokens if not t.startswith("=")), FAKE_ACCOUNT_ID}, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(part) for part in parts))

    def __call__(self, value: Any) -> bool:
        return any(text in self._whole or self._pattern.search(text) for text in _strings(value))
