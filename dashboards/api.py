"""API performance: traffic, latency percentiles, 5xx ratio, busiest and slowest endpoints."""

from __future__ import annotations

from typing import Any, TypeVar

from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries

from dashboards.common import (
    APP,
    RATE,
    RECORDED,
    Rows,
    above,
    dashboard,
    quantile,
    query,
    sentry_link,
    service_variable,
    stat,
    table,
    timeseries,
)
from dashboards.context import DashboardContext
from infra.alerting.rule_api import P95_5M, REQUEST_RATE_5M
from infra.alerting.slo import error_ratio_record

SLUG = "api"
TITLE = "API performance"
DESCRIPTION = "FastAPI backend: request rate, latency, errors and endpoints."

ErrorPanel = TypeVar("ErrorPanel", Stat, Timeseries)


def linked_to_sentry(panel: ErrorPanel, ctx: DashboardContext) -> ErrorPanel:
    """An error panel links to the backend's issues in Sentry: the ratio says how many, Sentry says which."""
    return panel.links([sentry_link(ctx.sentry_backend_url)]) if ctx.sentry_backend_url else panel


def build(ctx: DashboardContext) -> dict[str, Any]:
    t = ctx.thresholds
    p95_warning, p95_critical = t.p95_latency_ms / 1000, t.p95_latency_critical_ms / 1000
    errors_warning, errors_critical = t.error_ratio_percent / 100, t.error_ratio_critical_percent / 100
    error_ratio_5m = error_ratio_record("5m")
    p95 = f"max({P95_5M}{{{RECORDED}}})"
    service = service_variable("http_requests_total", ctx.services_of("api"))
    rows: Rows = {
        "Overview": [
            stat(
                "Request rate",
                "Requests per second over all endpoints (5-minute rate, recorded).",
                "reqps",
                query(f"sum({REQUEST_RATE_5M}{{{RECORDED}}})", instant=True),
            ),
            linked_to_sentry(
                stat(
                    "5xx ratio",
                    f"Share of responses with a 5xx status over 5 minutes (recorded); warns above "
                    f"{t.error_ratio_percent:g} %, pages above {t.error_ratio_critical_percent:g} %.",
                    "percentunit",
                    query(f"max({error_ratio_5m}{{{RECORDED}}})", instant=True),
                    thresholds=above(errors_warning, errors_critical),
                    decimals=2,
                ),
                ctx,
            ),
            stat(
                "p95 latency",
                f"95th percentile of request duration over 5 minutes (recorded); warns above {t.p95_latency_ms} ms, "
                f"pages above {t.p95_latency_critical_ms} ms.",
                "s",
                query(p95, instant=True),
                thresholds=above(p95_warning, p95_critical),
            ),
            stat(
                "In-progress requests",
                "Requests being served right now; a steady climb means workers are saturated.",
                "short",
                query(f"sum(http_requests_in_progress{{{APP}}})", instant=True),
            ),
        ],
        "Traffic and errors": [
            timeseries(
                "Request rate by status code",
                "Requests per second, split by HTTP status code.",
                "reqps",
                query(f"sum by (status_code) (rate(http_requests_total{{{APP}}}[{RATE}]))", "{{status_code}}"),
                stacked=True,
            ),
            linked_to_sentry(
                timeseries(
                    "5xx ratio",
                    "5xx responses over all responses (5-minute rate, recorded); dashed lines at the warning and "
                    "paging thresholds.",
                    "percentunit",
                    query(f"{error_ratio_5m}{{{RECORDED}}}", "{{service}}"),
                    thresholds=above(errors_warning, errors_critical),
                    min_value=0,
                ),
                ctx,
            ),
        ],
        "Latency": [
            timeseries(
                "Latency p50 / p95 / p99",
                "Request duration percentiles from the histogram (p95 recorded); dashed lines at the p95 warning "
                "and paging thresholds.",
                "s",
                query(
                    quantile(0.5, "http_request_duration_seconds"),
                    "p50",
                ),
                query(p95, "p95"),
                query(
                    quantile(0.99, "http_request_duration_seconds"),
                    "p99",
                ),
                thresholds=above(p95_warning, p95_critical),
                min_value=0,
            ),
            timeseries(
                "In-progress requests by endpoint",
                "Concurrent requests per endpoint.",
                "short",
                query(f"sum by (endpoint) (http_requests_in_progress{{{APP}}})", "{{endpoint}}"),
                min_value=0,
            ),
        ],
        "Endpoints": [
            table(
                "Top endpoints by traffic",
                "The ten endpoints with the most requests per second.",
                "reqps",
                query(
                    f"topk(10, sum by (method, endpoint) (rate(http_requests_total{{{APP}}}[{RATE}])))",
                    instant=True,
                    table=True,
                ),
            ),
            table(
                "Top endpoints by p95 latency",
                "The ten slowest endpoints by 95th percentile duration.",
                "s",
                query(
                    f"topk(10, {quantile(0.95, 'http_request_duration_seconds', by='method, endpoint')})",
                    instant=True,
                    table=True,
                ),
            ),
        ],
    }
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
