"""Database: the app's connection pool and queries, and PostgreSQL as postgres_exporter sees it."""

from __future__ import annotations

from typing import Any

from dashboards.common import (
    APP,
    ENV,
    RATE,
    Rows,
    above,
    dashboard,
    quantile,
    query,
    service_variable,
    stat,
    timeseries,
)
from dashboards.context import DashboardContext

SLUG = "database"
TITLE = "Database"
DESCRIPTION = "SQLAlchemy pool and query latency from the API; PostgreSQL from its exporter."

# One panel each: p95 shows the usual slow query, p99 the outliers the p95 hides.
_QUERY_PERCENTILES = ((0.95, "p95", "95th"), (0.99, "p99", "99th"))


def build(ctx: DashboardContext) -> dict[str, Any]:
    t = ctx.thresholds
    pool_ratio = t.db_pool_utilization_percent / 100
    server_warning = t.db_server_connections_percent / 100
    server_critical = t.db_server_connections_critical_percent / 100
    service = service_variable("db_connections_active", ctx.services_of("api"))
    rows: Rows = {
        "Connections": [
            stat(
                "Pool utilization",
                f"Checked-out share of the app's connection pool; the alert fires above "
                f"{t.db_pool_utilization_percent:g} %.",
                "percentunit",
                query(
                    f"sum(db_connections_active{{{APP}}}) / "
                    f"(sum(db_connections_active{{{APP}}}) + sum(db_connections_idle{{{APP}}}))",
                    instant=True,
                ),
                thresholds=above(pool_ratio * 0.8, pool_ratio),
            ),
            stat(
                "Server connections",
                f"Backends over max_connections; warns above {t.db_server_connections_percent:g} %, pages above "
                f"{t.db_server_connections_critical_percent:g} %.",
                "percentunit",
                query(
                    f"sum(pg_stat_activity_count{{{ENV}}}) / max(pg_settings_max_connections{{{ENV}}})", instant=True
                ),
                thresholds=above(server_warning, server_critical),
            ),
            stat(
                "Replication lag",
                f"How far the replica is behind the primary; the alert fires above {t.replication_lag_seconds} s.",
                "s",
                query(f"max(pg_replication_lag_seconds{{{ENV}}})", instant=True),
                thresholds=above(t.replication_lag_seconds / 2, t.replication_lag_seconds),
            ),
            stat(
                "PostgreSQL up",
                "1 when postgres_exporter reaches the server.",
                "bool",
                query(f"min(pg_up{{{ENV}}})", instant=True),
            ),
            timeseries(
                "App pool: active and idle",
                "Connections checked out of (active) and waiting in (idle) the SQLAlchemy pool.",
                "short",
                query(f"sum(db_connections_active{{{APP}}})", "active"),
                query(f"sum(db_connections_idle{{{APP}}})", "idle"),
                stacked=True,
                min_value=0,
            ),
            timeseries(
                "Server connections by state",
                "PostgreSQL backends by state (active, idle, idle in transaction).",
                "short",
                query(f"sum by (state) (pg_stat_activity_count{{{ENV}}})", "{{state}}"),
                query(f"max(pg_settings_max_connections{{{ENV}}})", "max_connections"),
                min_value=0,
            ),
        ],
        "Queries": [
            *(
                timeseries(
                    f"Query duration {percentile} by operation and table",
                    f"{ordinal} percentile of query duration from the app's histogram.",
                    "s",
                    query(
                        quantile(q, "db_query_duration_seconds", by="operation, table"),
                        "{{operation}} {{table}}",
                    ),
                    min_value=0,
                )
                for q, percentile, ordinal in _QUERY_PERCENTILES
            ),
            timeseries(
                "Slow queries per minute",
                f"Queries slower than 1 s, per minute; the alert fires above {t.slow_queries_per_minute:g} per minute.",
                "short",
                query(
                    f"sum by (operation, table) (rate(db_slow_queries_total{{{APP}}}[{RATE}])) * 60",
                    "{{operation}} {{table}}",
                ),
                thresholds=above(None, t.slow_queries_per_minute),
                min_value=0,
            ),
            timeseries(
                "Query errors",
                f"Failed queries per second by operation and error type; the alert fires when more than "
                f"{t.db_query_error_percent:g} % of queries fail.",
                "ops",
                query(
                    f"sum by (operation, error_type) (rate(db_query_errors_total{{{APP}}}[{RATE}]))",
                    "{{operation}} {{error_type}}",
                ),
                min_value=0,
            ),
        ],
        "Server": [
            timeseries(
                "Database size",
                "On-disk size of each database.",
                "bytes",
                query(f"sum by (datname) (pg_database_size_bytes{{{ENV}}})", "{{datname}}"),
                min_value=0,
            ),
            timeseries(
                "Database growth over 24 h",
                "Change in size over the previous day; a jump points at a runaway table or missing vacuum.",
                "bytes",
                query(f"sum by (datname) (delta(pg_database_size_bytes{{{ENV}}}[1d]))", "{{datname}}"),
            ),
            timeseries(
                "Replication lag",
                f"Replica lag behind the primary; dashed line at the {t.replication_lag_seconds} s alert.",
                "s",
                query(f"max by (instance) (pg_replication_lag_seconds{{{ENV}}})", "{{instance}}"),
                thresholds=above(None, t.replication_lag_seconds),
                min_value=0,
            ),
            timeseries(
                "Transactions and deadlocks",
                f"Commits, rollbacks and deadlocks per second; the deadlock alert fires above "
                f"{t.deadlocks_per_hour} per hour.",
                "ops",
                query(f"sum(rate(pg_stat_database_xact_commit{{{ENV}}}[{RATE}]))", "commits"),
                query(f"sum(rate(pg_stat_database_xact_rollback{{{ENV}}}[{RATE}]))", "rollbacks"),
                query(f"sum(rate(pg_stat_database_deadlocks{{{ENV}}}[{RATE}]))", "deadlocks"),
                min_value=0,
            ),
        ],
    }
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
