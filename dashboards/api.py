"""API performance: traffic, latency percentiles, 5xx ratio, busiest and slowest endpoints."""

from __future__ import annotations

from typing import Any

from dashboards.common import (
    APP,
    RATE,
    above,
    dashboard,
    query,
    render,
    row,
    service_variable,
    stat,
    table,
    timeseries,
)
from dashboards.context import DashboardContext

SLUG = "api"
TITLE = "API performance"


def build(ctx: DashboardContext) -> dict[str, Any]:
    t = ctx.thresholds
    p95_seconds = t.p95_latency_ms / 1000
    error_ratio = t.error_ratio_percent / 100
    board = (
        dashboard(ctx, SLUG, TITLE, "FastAPI backend: request rate, latency, errors and endpoints.")
        .with_variable(service_variable("http_requests_total", ctx.services_of("api")))
        .with_row(row("Overview"))
        .with_panel(
            stat(
                "Request rate",
                "Requests per second over all endpoints.",
                "reqps",
                query(f"sum(rate(http_requests_total{{{APP}}}[{RATE}]))", instant=True),
            )
        )
        .with_panel(
            stat(
                "5xx ratio",
                f"Share of responses with a 5xx status; the alert fires above {t.error_ratio_percent:g} %.",
                "percentunit",
                query(
                    f"sum(rate(http_errors_total{{{APP}}}[{RATE}])) / sum(rate(http_requests_total{{{APP}}}[{RATE}]))",
                    instant=True,
                ),
                thresholds=above(error_ratio / 2, error_ratio),
                decimals=2,
            )
        )
        .with_panel(
            stat(
                "p95 latency",
                f"95th percentile of request duration; the alert fires above {t.p95_latency_ms} ms.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(http_request_duration_seconds_bucket{{{APP}}}[{RATE}])))",
                    instant=True,
                ),
                thresholds=above(p95_seconds * 0.8, p95_seconds),
            )
        )
        .with_panel(
            stat(
                "In-progress requests",
                "Requests being served right now; a steady climb means workers are saturated.",
                "short",
                query(f"sum(http_requests_in_progress{{{APP}}})", instant=True),
            )
        )
        .with_row(row("Traffic and errors"))
        .with_panel(
            timeseries(
                "Request rate by status code",
                "Requests per second, split by HTTP status code.",
                "reqps",
                query(f"sum by (status_code) (rate(http_requests_total{{{APP}}}[{RATE}]))", "{{status_code}}"),
                stacked=True,
            )
        )
        .with_panel(
            timeseries(
                "5xx ratio",
                f"5xx responses over all responses; dashed line at the {t.error_ratio_percent:g} % alert threshold.",
                "percentunit",
                query(
                    f"sum by (service) (rate(http_errors_total{{{APP}}}[{RATE}])) / "
                    f"sum by (service) (rate(http_requests_total{{{APP}}}[{RATE}]))",
                    "{{service}}",
                ),
                thresholds=above(None, error_ratio),
                min_value=0,
            )
        )
        .with_row(row("Latency"))
        .with_panel(
            timeseries(
                "Latency p50 / p95 / p99",
                f"Request duration percentiles from the histogram; dashed line at the {t.p95_latency_ms} ms p95 alert.",
                "s",
                *(
                    query(
                        f"histogram_quantile({q}, sum by (le) "
                        f"(rate(http_request_duration_seconds_bucket{{{APP}}}[{RATE}])))",
                        f"p{round(q * 100)}",
                        ref=ref,
                    )
                    for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
                ),
                thresholds=above(None, p95_seconds),
                min_value=0,
            )
        )
        .with_panel(
            timeseries(
                "In-progress requests by endpoint",
                "Concurrent requests per endpoint.",
                "short",
                query(f"sum by (endpoint) (http_requests_in_progress{{{APP}}})", "{{endpoint}}"),
                min_value=0,
            )
        )
        .with_row(row("Endpoints"))
        .with_panel(
            table(
                "Top endpoints by traffic",
                "The ten endpoints with the most requests per second.",
                "reqps",
                query(
                    f"topk(10, sum by (method, endpoint) (rate(http_requests_total{{{APP}}}[{RATE}])))",
                    instant=True,
                    table=True,
                ),
            )
        )
        .with_panel(
            table(
                "Top endpoints by p95 latency",
                "The ten slowest endpoints by 95th percentile duration.",
                "s",
                query(
                    "topk(10, histogram_quantile(0.95, sum by (method, endpoint, le) "
                    f"(rate(http_request_duration_seconds_bucket{{{APP}}}[{RATE}]))))",
                    instant=True,
                    table=True,
                ),
            )
        )
    )
    return render(board)
