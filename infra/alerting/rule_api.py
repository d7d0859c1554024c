"""API rules: request rate and p95 recordings, errors, latency, degradation vs last week, health checks.

Written against the backend contract (`http_requests_total`,
`http_request_duration_seconds`); the `service` label is attached at scrape
time. One rule per alert and severity covers every API service (the
recordings are `by (service)`); only the health check names its services,
one rule per distinct health path.
"""

from __future__ import annotations

from urllib.parse import urlparse

from infra.alerting.rule_model import (
    Alert,
    Recording,
    Rule,
    RuleNamespace,
    Severity,
    dur,
    num,
    one_group_namespace,
    scraped_services,
    sel,
    service_matcher,
    warning_and_critical,
)
from infra.alerting.slo import REQUEST_RATE_5M as REQUEST_RATE_5M  # re-exported: dashboards read it from here
from infra.alerting.slo import error_ratio_record
from infra.config import StackInput
from infra.config.core import ServiceSpec

NAMESPACE = "api"

# Recorded in slo.py with the other SLI building blocks.
ERROR_RATIO_5M = error_ratio_record("5m")
P95_5M = "service:http_request_duration_seconds:p95_rate5m"


def traffic_guard(settings: StackInput, window_record: str = REQUEST_RATE_5M) -> str:
    """`and` clause that keeps ratio alerts quiet while too few requests make ratios meaningless."""
    return f"and on (service) {window_record} >= {num(settings.slo.min_requests_per_second)}"


def _recordings() -> list[Rule]:
    buckets = sel("http_request_duration_seconds_bucket", service="!")
    return [Recording(P95_5M, f"histogram_quantile(0.95, sum by (service, le) (rate({buckets}[{dur('5m')}])))")]


def _error_rate(settings: StackInput) -> list[Rule]:
    def above(severity: Severity, percent: float) -> Alert:
        return Alert(
            name="ApiHighErrorRate",
            expr=f"{ERROR_RATIO_5M} > {num(percent / 100)}\n{traffic_guard(settings)}",
            # Five minutes of a 5-minute ratio: a deploy blip passes, a real outage does not.
            for_="5m",
            severity=severity,
            service=None,
            summary="The API answers too many requests with a 5xx status.",
            description=f"{{{{ $value | humanizePercentage }}}} of requests to {{{{ $labels.service }}}} "
            f"failed with a 5xx status over the last 5 minutes (threshold {num(percent)}%).",
        )

    thresholds = settings.thresholds
    return warning_and_critical(above, thresholds.error_ratio_percent, thresholds.error_ratio_critical_percent)


def _latency(settings: StackInput) -> list[Rule]:
    def above(severity: Severity, millis: int) -> Alert:
        return Alert(
            name="ApiHighLatency",
            expr=f"{P95_5M} > {num(millis / 1000)}\n{traffic_guard(settings)}",
            # Latency is noisier than errors: ten minutes before anyone hears of it.
            for_="10m",
            severity=severity,
            service=None,
            summary="The API's 95th-percentile latency is above its threshold.",
            description=f"p95 latency of {{{{ $labels.service }}}} is {{{{ $value | humanizeDuration }}}} "
            f"over the last 5 minutes (threshold {millis}ms).",
        )

    thresholds = settings.thresholds
    return warning_and_critical(above, thresholds.p95_latency_ms, thresholds.p95_latency_critical_ms)


def _degradation(settings: StackInput) -> list[Rule]:
    factor = num(settings.thresholds.degradation_factor)
    min_rps = num(settings.slo.min_requests_per_second)
    return [
        Alert(
            name="ApiLatencyDegraded",
            expr=f"{P95_5M} > {factor} * {P95_5M} offset {dur('1w')}\n"
            f"and {P95_5M} > {num(settings.thresholds.degradation_floor_ms / 1000)}\n"
            f"{traffic_guard(settings)}",
            # Compared with the same time last week, so daily and weekly rhythms cancel out;
            # half an hour keeps a short spike from paging anyone's attention.
            for_="30m",
            severity="warning",
            service=None,
            summary="The API is much slower than at the same time last week.",
            description=f"p95 latency of {{{{ $labels.service }}}} is {{{{ $value | humanizeDuration }}}}, "
            f"more than {factor}x the same time last week.",
        ),
        Alert(
            name="ApiTrafficDropped",
            expr=f"{REQUEST_RATE_5M} < {REQUEST_RATE_5M} offset {dur('1w')} / {factor}\n"
            f"and on (service) {REQUEST_RATE_5M} offset {dur('1w')} >= {min_rps}",
            for_="30m",
            severity="warning",
            service=None,
            summary="The API serves far fewer requests than at the same time last week.",
            description=f"{{{{ $labels.service }}}} serves {{{{ $value | humanize }}}} requests/s, "
            f"less than 1/{factor} of the same time last week.",
        ),
    ]


def _health(services: tuple[ServiceSpec, ...], settings: StackInput) -> list[Rule]:
    """One rule per distinct health path (the path is in the selector and the description), over its services."""
    by_path: dict[str, list[ServiceSpec]] = {}
    for service in services:
        if service.health_url:
            by_path.setdefault(urlparse(service.health_url).path or "/", []).append(service)
    percent = settings.thresholds.health_check_failure_percent
    rules: list[Rule] = []
    for path, probed in sorted(by_path.items()):
        # The health endpoint the probes call is also counted by the backend itself:
        # a non-2xx answer there is the API saying it is unhealthy.
        which = service_matcher(probed)
        health = sel("http_requests_total", service=which, endpoint=path)
        failing = sel("http_requests_total", service=which, endpoint=path, status_code="!~2..")
        rules.append(
            Alert(
                name="ApiHealthCheckFailing",
                expr=f"sum by (service) (rate({failing}[{dur('5m')}]))\n"
                f"/ sum by (service) (rate({health}[{dur('5m')}]))\n> {num(percent / 100)}",
                for_="5m",
                severity="warning",
                service=None,
                summary="The API's health endpoint reports it unhealthy.",
                description=f"{{{{ $value | humanizePercentage }}}} of calls to {path} on {{{{ $labels.service }}}} "
                f"got a non-2xx answer over the last 5 minutes (threshold {num(percent)}%).",
            )
        )
    return rules


def api_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    services = scraped_services(settings, "api")
    if not services:
        return ()
    rules: list[Rule] = [
        *_recordings(),
        *_error_rate(settings),
        *_latency(settings),
        *_degradation(settings),
        *_health(services, settings),
    ]
    return one_group_namespace(NAMESPACE, rules)
