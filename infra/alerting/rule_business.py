"""Business sanity that helps on-call: the screener is used while the market is open.

Warning only: zero screenings during trading hours usually means a broken
frontend, a broken route or a broken auth flow that the technical alerts do
not see, but it can also be a quiet day. Exchange holidays are not known
here; the runbook says so.
"""

from __future__ import annotations

from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    dur,
    one_group_namespace,
    scraped_services,
    sel,
    service_matcher,
)
from infra.config import StackInput
from infra.config.alerting import TradingHours
from infra.config.core import ServiceSpec

NAMESPACE = "business"


def _runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """Consecutive runs of weekday numbers: (1, 2, 3, 5) -> [(1, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def trading_hours_filter(hours: TradingHours) -> str:
    """A label-less vector that has a sample only while the market is open (in the market's time zone)."""
    # Wall-clock seconds (a time-zone offset), deliberately not `secs()`: no time scale moves the market's
    # hours, so no faster clock can show them firing; promtool tests them on made-up series.
    local = f"vector(time() + {hours.utc_offset_hours * 3600})"
    minute_of_day = f"(hour({local}) * 60 + minute({local}))"
    # Comparison operators without `bool` filter, so chaining them keeps the
    # sample only when every bound holds.
    open_ = f"{minute_of_day} >= {hours.open_minute} < {hours.close_minute}"
    day = f"day_of_week({local})"
    days = " or ".join(
        f"{day} == {first}" if first == last else f"{day} >= {first} <= {last}" for first, last in _runs(hours.weekdays)
    )
    return f"({open_})\nand on () ({days})"


def _screenings(services: tuple[ServiceSpec, ...], settings: StackInput) -> list[Rule]:
    hours = settings.rules.trading_hours
    # The counter has a series per template only after its first screening;
    # `or 0 * up` turns "no series yet" into a rate of zero (for the API services only).
    up = sel("up", service=service_matcher(services))
    rate = f"sum by (service) (rate(screening_requests_total[{dur('15m')}]))\nor 0 * sum by (service) ({up})"
    return [
        Alert(
            name="ScreeningRequestsStalled",
            expr=f"({rate}) == 0\nand on () {trading_hours_filter(hours)}",
            # A quarter of an hour without a single screening while the market is open.
            for_="15m",
            severity="warning",
            service=None,
            summary="Nobody has run a stock screening during trading hours.",
            description=f"{{{{ $labels.service }}}} has served no screening request for 15 minutes although "
            f"the market is open ({hours.open_local}-{hours.close_local}, UTC{hours.utc_offset_hours:+d}).",
        )
    ]


def business_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    api = scraped_services(settings, "api")
    return one_group_namespace(NAMESPACE, _screenings(api, settings) if api else [])
