"""SLOs: objective, error budget left and burn rates, read from the SLO recording rules.

Every series here is one the alerting rules record (infra/alerting/slo.py):
the names are imported, not retyped, so a rename there cannot leave this
dashboard reading nothing.
"""

from __future__ import annotations

from typing import Any

from dashboards.common import (
    RECORDED,
    Panels,
    above,
    below,
    dashboard,
    query,
    service_variable,
    stat,
    table,
    timeseries,
)
from dashboards.context import DashboardContext
from infra.alerting.slo import (
    BURN_RATE_ALERTS,
    ERROR_RATIO,
    OBJECTIVE,
    REQUEST_RATE_1H,
    SLOW_RATIO,
    WINDOWS,
)

SLUG = "slo"
TITLE = "SLOs"
PERIOD = "30d"
DESCRIPTION = f"API availability and latency SLOs over a {PERIOD} period: budget left and multi-window burn rates."

# (slo label, recorded ratio of bad events without its window, what a bad event is)
_SLOS = (
    ("availability", ERROR_RATIO, "requests answered with a 5xx status"),
    ("latency", SLOW_RATIO, "requests slower than the latency threshold"),
)


def _budget(slo: str) -> str:
    """The error budget (1 - objective) per service, as a ratio."""
    return f'(1 - {OBJECTIVE}{{{RECORDED}, slo="{slo}"}})'


def build(ctx: DashboardContext) -> dict[str, Any]:
    factors = sorted({window.factor for alert in BURN_RATE_ALERTS for window in alert.windows})
    page_factor, slowest_factor = factors[-1], factors[0]
    service = service_variable(REQUEST_RATE_1H, ctx.services_of("api"))
    rows: dict[str, Panels] = {}
    for slo, ratio, bad in _SLOS:
        objective_percent = ctx.slo.availability_percent if slo == "availability" else ctx.slo.latency_percent
        ratio_5m = f"{ratio}5m{{{RECORDED}}}"
        # The period's bad-event ratio as the mean of the 5-minute ratios (as
        # sloth does): cheap to evaluate, exact while traffic is steady.
        period_ratio = f"avg_over_time({ratio_5m}[{PERIOD}])"
        rows[f"{slo.capitalize()} (objective {objective_percent:g} %)"] = [
            stat(
                "Objective",
                f"Target share of good requests (not {bad}); set by slo.{slo}Percent in the stack file.",
                "percentunit",
                query(f'max({OBJECTIVE}{{{RECORDED}, slo="{slo}"}})', instant=True),
                decimals=2,
            ),
            stat(
                f"SLI ({PERIOD})",
                f"Share of good requests over the last {PERIOD} (shorter when retention is shorter).",
                "percentunit",
                query(f"1 - max({period_ratio})", instant=True),
                thresholds=below(objective_percent / 100),
                decimals=3,
            ),
            stat(
                "Error budget left",
                f"Share of the {PERIOD} error budget not yet spent; below 0 the SLO is missed.",
                "percentunit",
                query(f"1 - max({period_ratio} / on (service) {_budget(slo)})", instant=True),
                thresholds=below(0, 0.25),
                decimals=1,
            ),
            stat(
                "Burn rate (1 h)",
                f"How many times faster than sustainable the budget burns over the last hour; pages at "
                f"{page_factor:g}x together with the 5 min window.",
                "x",
                query(f"max({ratio}1h{{{RECORDED}}} / on (service) {_budget(slo)})", instant=True),
                thresholds=above(slowest_factor, page_factor),
                decimals=1,
            ),
            timeseries(
                "Burn rate by window",
                f"Bad-event ratio over each alert window divided by the budget; 1 spends the budget exactly "
                f"in {PERIOD}. Dashed lines at {slowest_factor:g}x and {page_factor:g}x.",
                "x",
                *(
                    query(
                        f"{ratio}{window}{{{RECORDED}}} / on (service) {_budget(slo)}",
                        f"{{{{service}}}} {window}",
                    )
                    for window in WINDOWS
                ),
                thresholds=above(slowest_factor, page_factor),
                min_value=0,
                width=16,
            ),
            timeseries(
                "Bad-event ratio and budget",
                f"Share of {bad} over 5 minutes against the budget (1 - objective).",
                "percentunit",
                query(ratio_5m, "{{service}} 5m"),
                query(_budget(slo), "{{service}} budget"),
                min_value=0,
                width=8,
            ),
        ]
    rows["Traffic and alerts"] = [
        timeseries(
            "Request rate (1 h)",
            f"Requests per second over the last hour; below {ctx.slo.min_requests_per_second:g}/s the "
            "burn-rate alerts stay quiet (too few requests for a meaningful ratio).",
            "reqps",
            query(f"{REQUEST_RATE_1H}{{{RECORDED}}}", "{{service}}"),
            thresholds=below(ctx.slo.min_requests_per_second),
            min_value=0,
        ),
        table(
            "Firing AMP alerts",
            "Alerts the AMP rule engine fires now (its ALERTS series), by name, severity and service. Their "
            "silences and notifications are in the AMP Alertmanager data source (Alerting > Silences).",
            "short",
            query(
                'sum by (alertname, severity, service) (ALERTS{alertstate="firing"})',
                instant=True,
                table=True,
            ),
        ),
    ]
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
