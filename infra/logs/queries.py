"""Logs Insights queries and metric-filter patterns, written against the contract's field names.

Saved queries (`aws.cloudwatch.QueryDefinition`) are the runbooks' "look at
the logs" steps; the Logs dashboard's panels run the same text. Each query
names the group kinds it reads (`infra.logs.fluent_bit.GROUP_KINDS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.logs.contract import (
    BACKEND_ERROR_LEVELS,
    DATABASE,
    DB_USER,
    DURATION_MS,
    EXC_INFO,
    LEVEL,
    LOGGER,
    MESSAGE,
    METHOD,
    NGINX_ERROR_STATUS,
    NGINX_SLOW_REQUEST_SECONDS,
    POSTGRES_ERROR_LEVELS,
    REQUEST_ID,
    REQUEST_TIME,
    SERVICE,
    STATUS,
    UPSTREAM_RESPONSE_TIME,
    URI,
    LogFormat,
)

# Placeholder a person replaces in the saved query (Logs Insights has no variables).
REQUEST_ID_PLACEHOLDER = "PASTE-REQUEST-ID"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{value}"' for value in values)


@dataclass(frozen=True)
class LogQuery:
    slug: str
    title: str
    group_kinds: tuple[str, ...]
    text: str
    # Fields the query reads from the contract (checked against the parsed samples).
    fields: tuple[str, ...]


ERRORS = LogQuery(
    "errors",
    "Error lines with stack traces, newest first",
    ("application",),
    f"fields @timestamp, {SERVICE}, {LEVEL}, {REQUEST_ID}, {LOGGER}, {MESSAGE}, {EXC_INFO}\n"
    f"| filter {LEVEL} in [{_quoted(BACKEND_ERROR_LEVELS)}]\n"
    "| sort @timestamp desc\n| limit 200",
    (SERVICE, LEVEL, REQUEST_ID, LOGGER, MESSAGE, EXC_INFO),
)


def one_request_text(request_id: str) -> str:
    """Every line of one request, oldest first; `request_id` is a literal or a Grafana variable."""
    return (
        f"fields @timestamp, {SERVICE}, {LEVEL}, {STATUS}, {URI}, {MESSAGE}, {EXC_INFO}\n"
        f'| filter {REQUEST_ID} = "{request_id}"\n'
        "| sort @timestamp asc\n| limit 1000"
    )


ONE_REQUEST = LogQuery(
    "one-request",
    "Every line of one request across NGINX and the backend",
    ("nginx-access", "application"),
    one_request_text(REQUEST_ID_PLACEHOLDER),
    (SERVICE, LEVEL, STATUS, URI, MESSAGE, EXC_INFO, REQUEST_ID),
)
NGINX_5XX = LogQuery(
    "nginx-5xx",
    "NGINX 5xx responses by status and path",
    ("nginx-access",),
    f"filter {STATUS} >= {NGINX_ERROR_STATUS}\n| stats count(*) as responses by {STATUS}, {METHOD}, {URI}\n"
    "| sort responses desc\n| limit 100",
    (STATUS, METHOD, URI),
)
NGINX_SLOW = LogQuery(
    "nginx-slow",
    f"NGINX requests slower than {NGINX_SLOW_REQUEST_SECONDS:g} s",
    ("nginx-access",),
    f"fields @timestamp, {REQUEST_ID}, {METHOD}, {URI}, {STATUS}, {REQUEST_TIME}, {UPSTREAM_RESPONSE_TIME}\n"
    f"| filter {REQUEST_TIME} >= {NGINX_SLOW_REQUEST_SECONDS:g}\n| sort {REQUEST_TIME} desc\n| limit 200",
    (REQUEST_ID, METHOD, URI, STATUS, REQUEST_TIME, UPSTREAM_RESPONSE_TIME),
)
POSTGRES_SLOW = LogQuery(
    "postgres-slow-queries",
    "PostgreSQL statements over log_min_duration_statement, slowest first",
    ("database",),
    f"fields @timestamp, {DURATION_MS}, {DATABASE}, {DB_USER}, {MESSAGE}\n"
    f"| filter ispresent({DURATION_MS})\n| sort {DURATION_MS} desc\n| limit 100",
    (DURATION_MS, DATABASE, DB_USER, MESSAGE),
)
POSTGRES_ERRORS = LogQuery(
    "postgres-errors",
    "PostgreSQL errors (ERROR, FATAL, PANIC)",
    ("database",),
    f"fields @timestamp, {LEVEL}, {DATABASE}, {DB_USER}, {MESSAGE}\n"
    f"| filter {LEVEL} in [{_quoted(POSTGRES_ERROR_LEVELS)}]\n| sort @timestamp desc\n| limit 200",
    (LEVEL, DATABASE, DB_USER, MESSAGE),
)
# Time series of the dashboard (Logs Insights `stats ... by bin()`, grouped by the second key).
ERRORS_BY_SERVICE = LogQuery(
    "errors-by-service",
    "Error lines per service",
    ("application",),
    f"filter {LEVEL} in [{_quoted(BACKEND_ERROR_LEVELS)}]\n| stats count(*) as errors by bin(5m), {SERVICE}",
    (LEVEL, SERVICE),
)
NGINX_5XX_RATE = LogQuery(
    "nginx-5xx-rate",
    "NGINX 5xx responses per minute",
    ("nginx-access",),
    f"filter {STATUS} >= {NGINX_ERROR_STATUS}\n| stats count(*) as responses by bin(1m), {STATUS}",
    (STATUS,),
)
QUERIES: tuple[LogQuery, ...] = (ERRORS, ONE_REQUEST, NGINX_5XX, NGINX_SLOW, POSTGRES_SLOW, POSTGRES_ERRORS)


def saved_query_name(name_prefix: str, query: LogQuery) -> str:
    """Logs Insights shows `/` as folders: one folder per environment."""
    return f"{name_prefix}/{query.slug}"


# --- metric filters ------------------------------------------------------------------------


def error_filter_pattern(fmt: LogFormat, service: str) -> str:
    """CloudWatch JSON filter pattern matching one service's error lines in its format's group.

    The collector writes each parsed line as a JSON object, so fields are
    selected as `$.field` (CloudWatch filter-pattern syntax for JSON events).
    """
    if fmt == "nginx":
        return f'{{ ($.{SERVICE} = "{service}") && ($.{STATUS} >= {NGINX_ERROR_STATUS}) }}'
    levels = BACKEND_ERROR_LEVELS if fmt == "backend" else POSTGRES_ERROR_LEVELS
    either = " || ".join(f'($.{LEVEL} = "{level}")' for level in levels)
    return f'{{ ($.{SERVICE} = "{service}") && ({either}) }}'


_PATTERN_FIELD = re.compile(r"\$\.([A-Za-z_][A-Za-z0-9_]*)")


def pattern_fields(pattern: str) -> set[str]:
    """Fields a JSON filter pattern selects (`$.name`)."""
    return set(_PATTERN_FIELD.findall(pattern))
