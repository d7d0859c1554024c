"""Business: users, screenings, registrations, logins and portfolio activity."""

from __future__ import annotations

from typing import Any

from dashboards.common import APP, RATE, Rows, dashboard, quantile, query, service_variable, stat, timeseries
from dashboards.context import DashboardContext

SLUG = "business"
TITLE = "Business"
DESCRIPTION = "What users do: sessions, screenings, sign-ups, logins and portfolios."

_PEAK_USERS_24H = f"max_over_time(sum(active_users_current{{{APP}}})[1d:5m])"
_SCREENINGS_24H = f"sum(increase(screening_requests_total{{{APP}}}[1d]))"


def build(ctx: DashboardContext) -> dict[str, Any]:
    service = service_variable("screening_requests_total", ctx.services_of("api"))
    rows: Rows = {
        "Last 24 hours": [
            stat(
                "Users online now",
                "Users connected over WebSocket right now.",
                "short",
                query(f"sum(active_users_current{{{APP}}})", instant=True),
            ),
            stat(
                "Peak users (24 h)",
                "Most users connected at once in the last 24 hours. The backend exports no user identity, so "
                "distinct daily users cannot be counted from metrics; this peak and daily logins stand in for DAU.",
                "short",
                query(_PEAK_USERS_24H, instant=True),
            ),
            stat(
                "Screenings (24 h)",
                "Screening requests in the last 24 hours.",
                "short",
                query(_SCREENINGS_24H, instant=True),
                decimals=0,
            ),
            stat(
                "Registrations (24 h)",
                "New user registrations in the last 24 hours.",
                "short",
                query(f"sum(increase(user_registrations_total{{{APP}}}[1d]))", instant=True),
                decimals=0,
            ),
        ],
        "Users": [
            timeseries(
                "Daily active users (proxy)",
                "Successful logins over the trailing 24 hours and the peak of concurrent users in that window "
                "(see 'Peak users' for why distinct users are not available).",
                "short",
                query(
                    f'sum(increase(user_logins_total{{{APP}, result="success"}}[1d]))',
                    "successful logins (24 h)",
                ),
                query(_PEAK_USERS_24H, "peak concurrent (24 h)"),
                min_value=0,
            ),
            timeseries(
                "Logins by result",
                "Login attempts per second by result; a rise in failures can mean credential stuffing.",
                "ops",
                query(f"sum by (result) (rate(user_logins_total{{{APP}}}[{RATE}]))", "{{result}}"),
                stacked=True,
                min_value=0,
            ),
            timeseries(
                "Registrations per hour",
                "New user registrations per hour.",
                "short",
                query(f"sum(increase(user_registrations_total{{{APP}}}[1h]))", "registrations"),
                min_value=0,
            ),
            timeseries(
                "WebSocket connections and messages",
                "Open WebSocket connections and messages per second by direction.",
                "short",
                query(f"sum(websocket_connections_active{{{APP}}})", "connections"),
                query(
                    f"sum by (direction) (rate(websocket_messages_total{{{APP}}}[{RATE}]))",
                    "messages {{direction}}/s",
                ),
                min_value=0,
            ),
        ],
        "Screenings and portfolios": [
            timeseries(
                "Screening requests (daily trend)",
                "Screening requests over the trailing 24 hours, so each point reads as 'per day'.",
                "short",
                query(_SCREENINGS_24H, "per day"),
                min_value=0,
            ),
            timeseries(
                "Screenings by template",
                "Screening requests per second by template (custom, value, growth, momentum, ...).",
                "reqps",
                query(f"sum by (template) (rate(screening_requests_total{{{APP}}}[{RATE}]))", "{{template}}"),
                stacked=True,
                min_value=0,
            ),
            timeseries(
                "Stocks returned per screening",
                "Median and 95th percentile of result size; a drop to zero usually means stale market data.",
                "short",
                query(quantile(0.5, "screening_results_count"), "p50"),
                query(quantile(0.95, "screening_results_count"), "p95"),
                min_value=0,
            ),
            timeseries(
                "Portfolio operations per hour",
                "Portfolio creates, updates and deletes per hour.",
                "short",
                query(
                    f"sum by (operation) (increase(portfolio_operations_total{{{APP}}}[1h]))",
                    "{{operation}}",
                ),
                stacked=True,
                min_value=0,
            ),
        ],
    }
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
