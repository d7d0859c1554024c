"""Database: the application's connection pool and queries, and PostgreSQL through postgres_exporter.

Pool, slow-query and query-error series come from the API process (backend
contract), so those alerts carry the API's `service`; server-side series
come from postgres_exporter and carry the PostgreSQL service's. One rule per
alert and severity covers every service of its kind (`by (service)`).
"""

from __future__ import annotations

from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    Severity,
    dur,
    num,
    one_group_namespace,
    scraped_services,
    secs,
    warning_and_critical,
)
from infra.config import StackInput

NAMESPACE = "database"


def _app_side(settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    active = "sum by (service) (db_connections_active)"
    idle = "sum by (service) (db_connections_idle)"
    slow = "db_slow_queries_total"
    errors = "db_query_errors_total"
    queries = "db_query_duration_seconds_count"
    return [
        Alert(
            name="DatabasePoolExhausted",
            expr=f"{active}\n/ ({active} + {idle})\n> {num(thresholds.db_pool_utilization_percent / 100)}",
            # Warning only: a full pool hurts users through latency and errors,
            # and those symptoms page on their own.
            for_="10m",
            severity="warning",
            service=None,
            summary="The application's database connection pool is nearly exhausted.",
            description=f"{{{{ $labels.service }}}} has {{{{ $value | humanizePercentage }}}} of its pooled "
            f"database connections checked out (threshold {num(thresholds.db_pool_utilization_percent)}%).",
        ),
        Alert(
            name="DatabaseSlowQueries",
            expr=f"sum by (service) (rate({slow}[{dur('5m')}])) * 60 > {num(thresholds.slow_queries_per_minute)}",
            for_="10m",
            severity="warning",
            service=None,
            summary="The application runs too many queries slower than one second.",
            description=f"{{{{ $labels.service }}}} ran {{{{ $value | humanize }}}} queries per minute slower "
            f"than 1 s over the last 5 minutes (threshold {num(thresholds.slow_queries_per_minute)}).",
        ),
        Alert(
            name="DatabaseQueryErrors",
            expr=f"sum by (service) (rate({errors}[{dur('5m')}]))\n/ sum by (service) (rate({queries}[{dur('5m')}]))\n"
            f"> {num(thresholds.db_query_error_percent / 100)}",
            for_="5m",
            severity="warning",
            service=None,
            summary="Too many of the application's database queries fail.",
            description=f"{{{{ $value | humanizePercentage }}}} of the queries of {{{{ $labels.service }}}} "
            f"failed over the last 5 minutes (threshold {num(thresholds.db_query_error_percent)}%).",
        ),
    ]


def _server_side(settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    backends = "sum by (service) (pg_stat_activity_count)"
    limit = "max by (service) (pg_settings_max_connections)"

    def connections_above(severity: Severity, percent: float) -> Alert:
        return Alert(
            name="PostgresConnectionsSaturated",
            expr=f"{backends}\n/ {limit}\n> {num(percent / 100)}",
            for_="5m",
            severity=severity,
            service=None,
            summary="PostgreSQL is close to max_connections.",
            description=f"{{{{ $labels.service }}}} uses {{{{ $value | humanizePercentage }}}} of "
            f"max_connections (threshold {num(percent)}%); new connections will soon be refused.",
        )

    deadlocks = "pg_stat_database_deadlocks"
    return [
        Alert(
            name="PostgresDown",
            expr="pg_up == 0",
            # The exporter is scraped but cannot log in: the database is down or refusing us.
            for_="1m",
            severity="critical",
            service=None,
            summary="postgres_exporter cannot reach PostgreSQL.",
            description="postgres_exporter on {{ $labels.instance }} cannot connect to PostgreSQL "
            "({{ $labels.service }}).",
        ),
        *warning_and_critical(
            connections_above,
            thresholds.db_server_connections_percent,
            thresholds.db_server_connections_critical_percent,
        ),
        Alert(
            name="PostgresReplicationLag",
            expr=f"max by (service, instance) (pg_replication_lag_seconds)\n"
            # The replica's data age (now - last replayed commit) runs on the alerting clock.
            f"> {secs(thresholds.replication_lag_seconds)}",
            for_="5m",
            severity="warning",
            service=None,
            summary="A PostgreSQL replica lags behind the primary.",
            description="Replica {{ $labels.instance }} of {{ $labels.service }} is {{ $value | humanizeDuration }} "
            f"behind the primary (threshold {thresholds.replication_lag_seconds}s).",
        ),
        Alert(
            name="PostgresDeadlocks",
            expr=f"sum by (service, datname) (increase({deadlocks}[{dur('1h')}]))\n> {thresholds.deadlocks_per_hour}",
            # The hour-long window already smooths; a deadlock burst is news at once.
            for_="0",
            severity="warning",
            service=None,
            summary="PostgreSQL resolves deadlocks more often than usual.",
            description="Database {{ $labels.datname }} of {{ $labels.service }} had {{ $value | humanize }} "
            f"deadlocks in the last hour (threshold {thresholds.deadlocks_per_hour}).",
        ),
    ]


def database_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    rules: list[Rule] = []
    if scraped_services(settings, "api"):
        rules += _app_side(settings)
    if scraped_services(settings, "postgres"):
        rules += _server_side(settings)
    return one_group_namespace(NAMESPACE, rules)
