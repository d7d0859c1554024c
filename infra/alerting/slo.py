"""API SLOs: SLI recordings per window and multi-window, multi-burn-rate alerts (sloth style).

Two SLOs, each one set of rules over every API service (`by (service)`),
the objectives from `settings.slo` and each service's own `slo` block:
- availability: the share of requests not answered with a 5xx status;
- latency: the share of requests served within `latencyThresholdMs`
  (a bucket bound of the backend histogram, so the SLI is exact).

Burn rates follow the SRE workbook for a 30-day period: page when 1h and
5m both burn faster than 14.4x (2 % of the budget in an hour) or 6h and 30m
faster than 6x; open a ticket when 1d and 2h burn faster than 3x or 3d and
6h faster than 1x. The short window makes the alert stop soon after the
problem does. A traffic guard keeps a handful of requests at night from
paging anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.alerting.rule_model import (
    Alert,
    Recording,
    Rule,
    RuleNamespace,
    Severity,
    dur,
    labelled_constants,
    le_matcher,
    num,
    one_group_namespace,
    scraped_services,
    sel,
)
from infra.config import StackInput

NAMESPACE = "slo"
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
REQUEST_RATE_5M = "service:http_requests:rate5m"
ERROR_RATE_5M = "service:http_requests_errors:rate5m"  # answered with a 5xx status
MEASURED_RATE_5M = "service:http_request_duration_seconds_count:rate5m"
FAST_RATE_5M = "service:http_requests_fast:rate5m"  # served within slo.latencyThresholdMs
REQUEST_RATE_1H = "service:http_requests:rate1h"
OBJECTIVE = "slo:objective:ratio"


ERROR_RATIO = "service:http_requests:error_ratio_rate"
SLOW_RATIO = "service:http_request_duration_seconds:slow_ratio_rate"


def error_ratio_record(window: str) -> str:
    return f"{ERROR_RATIO}{window}"


def slow_ratio_record(window: str) -> str:
    return f"{SLOW_RATIO}{window}"


@dataclass(frozen=True)
class BurnRateWindow:
    long: str
    short: str
    factor: float


@dataclass(frozen=True)
class BurnRateAlert:
    severity: Severity
    windows: tuple[BurnRateWindow, BurnRateWindow]
    for_: str


BURN_RATE_ALERTS = (
    # Two minutes of `for` only filters a single bad evaluation; the short
    # window already proves the burn is still happening.
    BurnRateAlert("critical", (BurnRateWindow("1h", "5m", 14.4), BurnRateWindow("6h", "30m", 6)), "2m"),
    BurnRateAlert("warning", (BurnRateWindow("1d", "2h", 3), BurnRateWindow("3d", "6h", 1)), "15m"),
)


@dataclass(frozen=True)
class Slo:
    """One SLO over every API service, as the rule builder needs it."""

    name: str  # availability | latency
    alert_name: str
    default_percent: float  # the stack's objective
    overrides: dict[str, float]  # service -> its own objective, where the catalog sets one
    record_prefix: str  # the error-ratio record name without its window
    what: str  # how the description names a bad event

    def ratio(self, window: str) -> str:
        return f"{self.record_prefix}{window}"

    @property
    def objective(self) -> str:
        return sel(OBJECTIVE, slo=self.name)


def slos(settings: StackInput) -> tuple[Slo, Slo]:
    spec = settings.slo
    api = scraped_services(settings, "api")
    return (
        Slo(
            "availability",
            "ApiAvailabilityBudgetBurn",
            spec.availability_percent,
            {s.name: s.slo.availability_percent for s in api if s.slo and s.slo.availability_percent is not None},
            ERROR_RATIO,
            "requests failing with a 5xx status",
        ),
        Slo(
            "latency",
            "ApiLatencyBudgetBurn",
            spec.latency_percent,
            {s.name: s.slo.latency_percent for s in api if s.slo and s.slo.latency_percent is not None},
            SLOW_RATIO,
            f"requests slower than {spec.latency_threshold_ms}ms",
        ),
    )


def _rate_recordings(settings: StackInput) -> list[Rule]:
    """Per-second rates over 5 minutes, by service: the building blocks of every SLI window."""
    requests = sel("http_requests_total", service="!")
    errors = sel("http_requests_total", service="!", status_code="~5..")
    fast = sel("http_request_duration_seconds_bucket", service="!", le=le_matcher(settings.slo.latency_threshold_ms))
    count = sel("http_request_duration_seconds_count", service="!")
    return [
        Recording(REQUEST_RATE_5M, f"sum by (service) (rate({requests}[{dur('5m')}]))"),
        # The 5xx series only exist once a 5xx has happened; `or 0 * ...`
        # records a real 0 instead of a gap until then.
        Recording(ERROR_RATE_5M, f"sum by (service) (rate({errors}[{dur('5m')}]))\nor 0 * {REQUEST_RATE_5M}"),
        Recording(MEASURED_RATE_5M, f"sum by (service) (rate({count}[{dur('5m')}]))"),
        Recording(FAST_RATE_5M, f"sum by (service) (rate({fast}[{dur('5m')}]))"),
    ]


def _ratio(bad: str, total: str, window: str) -> str:
    """bad/total over `window`, from the 5-minute rate recordings.

    The 5m window divides the latest recordings; every longer window adds
    them up. AMP bills every sample a rule reads: a raw 3-day rate reads
    thousands of samples of every request series at each evaluation, this
    one sample per service and minute. Summing both sides over the same
    samples keeps the ratio traffic-weighted.
    """
    if window == "5m":
        return f"{bad}\n/ {total}"
    return f"sum_over_time({bad}[{dur(window)}])\n/ sum_over_time({total}[{dur(window)}])"


def objective_recording(slo: Slo) -> Recording:
    """Every API service's objective of `slo` as one series each: the overrides, then the stack's for the rest.

    One rule per SLO whatever the catalog: an override is a labelled constant,
    every other service with traffic gets the stack's objective, and `or`
    keeps an override where both exist.
    """
    default = f"0 * {REQUEST_RATE_5M} + {num(slo.default_percent / 100)}"
    overrides = {service: percent / 100 for service, percent in slo.overrides.items()}
    expr = f"{labelled_constants('service', overrides)}\nor on (service)\n{default}" if overrides else default
    return Recording(OBJECTIVE, expr, {"slo": slo.name})


def _sli_recordings(settings: StackInput) -> list[Rule]:
    rules = _rate_recordings(settings)
    for window in WINDOWS:
        rules.append(Recording(error_ratio_record(window), _ratio(ERROR_RATE_5M, REQUEST_RATE_5M, window)))
    for window in WINDOWS:
        fast_ratio = _ratio(FAST_RATE_5M, MEASURED_RATE_5M, window).replace("\n", "\n  ")
        rules.append(Recording(slow_ratio_record(window), f"1 - (\n  {fast_ratio}\n)"))
    rules.append(Recording(REQUEST_RATE_1H, f"avg_over_time({REQUEST_RATE_5M}[{dur('1h')}])"))
    rules += [objective_recording(slo) for slo in slos(settings)]
    return rules


def _burn_rate_alerts(slo: Slo, settings: StackInput) -> list[Rule]:
    # The error budget of each service, from its objective; one-to-one on `service`.
    budget = f"(1 - {slo.objective})"
    guard = f"and on (service) {REQUEST_RATE_1H} >= {num(settings.slo.min_requests_per_second)}"
    alerts: list[Rule] = []
    for spec in BURN_RATE_ALERTS:
        branches = [
            f"  {slo.ratio(w.long)} > on (service) {num(w.factor)} * {budget}\n"
            f"  and {slo.ratio(w.short)} > on (service) {num(w.factor)} * {budget}"
            for w in spec.windows
        ]
        first, second = spec.windows
        alerts.append(
            Alert(
                name=slo.alert_name,
                expr="(\n" + "\nor\n".join(branches) + "\n)\n" + guard,
                for_=spec.for_,
                severity=spec.severity,
                service=None,
                labels={"slo": slo.name},
                summary=f"The API is spending its {slo.name} error budget too fast.",
                description=f"{{{{ $labels.service }}}} burns its {slo.name} error budget more than "
                f"{num(first.factor)}x ({first.long} and {first.short}) or "
                f"{num(second.factor)}x ({second.long} and {second.short}) faster than a 30-day period allows; "
                f"{{{{ $value | humanizePercentage }}}} of {slo.what} over the long window.",
            )
        )
    return alerts


def slo_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    if not scraped_services(settings, "api"):
        return ()
    rules: list[Rule] = _sli_recordings(settings)
    for slo in slos(settings):
        rules += _burn_rate_alerts(slo, settings)
    return one_group_namespace(NAMESPACE, rules)
