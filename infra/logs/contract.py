"""The log contract: the fields each source emits and the parser the collector applies to each format.

One module, so that the Fluent Bit configuration, the metric filters, the
saved Logs Insights queries, the Logs dashboard and the runbooks all name the
same fields (tests parse the sample lines in `tests/logs/samples/` with the
parser definitions below and check every field a query names exists).

Formats (what a container writes on stdout/stderr; the container runtime's
own CRI/docker wrapping is removed by Fluent Bit's built-in `cri`/`docker`
multiline parsers before these apply):

- `backend`: one JSON object per line from Python logging with a JSON
  formatter (the FastAPI backend and the Celery workers share it);
- `nginx`: one JSON object per access-log line, from `NGINX_LOG_FORMAT`;
- `postgres`: PostgreSQL's stderr text log with `POSTGRES_SETTINGS`
  (`log_line_prefix`), continuation lines of a multi-line statement
  joined to their first line before the regex applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LogFormat = Literal["backend", "nginx", "postgres"]
LOG_FORMATS: tuple[LogFormat, ...] = ("backend", "nginx", "postgres")

# --- field names (every query, filter and panel refers to these constants) -------------

TIMESTAMP = "timestamp"
LEVEL = "level"
SERVICE = "service"
REQUEST_ID = "request_id"
MESSAGE = "message"
LOGGER = "logger"
EXC_INFO = "exc_info"
# nginx access log
METHOD = "method"
URI = "uri"
STATUS = "status"
REQUEST_TIME = "request_time"
UPSTREAM_RESPONSE_TIME = "upstream_response_time"
BODY_BYTES_SENT = "body_bytes_sent"
REMOTE_ADDR = "remote_addr"
USER_AGENT = "http_user_agent"
# postgres
PID = "pid"
DB_USER = "user"
DATABASE = "database"
DURATION_MS = "duration_ms"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: Literal["string", "number"]
    meaning: str
    always: bool = True  # False: present only on some lines (e.g. exc_info on errors)


# The spec's fields (timestamp, level, service, request_id, message) plus the stack trace of an error.
BACKEND_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(TIMESTAMP, "string", "ISO 8601 with milliseconds and offset, e.g. 2026-11-29T10:15:02.123+00:00"),
    FieldSpec(LEVEL, "string", "Python level name: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    FieldSpec(SERVICE, "string", "the catalog's service name (the `service` label of its metrics)"),
    FieldSpec(REQUEST_ID, "string", "X-Request-ID of the HTTP request (set by NGINX), '-' outside a request"),
    FieldSpec(MESSAGE, "string", "the formatted log message"),
    FieldSpec(LOGGER, "string", "the Python logger's name"),
    FieldSpec(EXC_INFO, "string", "the formatted traceback (newlines escaped in the JSON)", always=False),
)
NGINX_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(TIMESTAMP, "string", "$time_iso8601"),
    FieldSpec(SERVICE, "string", "literal in the log_format: the catalog's nginx service name"),
    FieldSpec(REQUEST_ID, "string", "$request_id, passed to the backend as X-Request-ID"),
    FieldSpec(REMOTE_ADDR, "string", "$remote_addr"),
    FieldSpec(METHOD, "string", "$request_method"),
    FieldSpec(URI, "string", "$uri (the path, without the query string, which may hold personal data)"),
    FieldSpec(STATUS, "number", "$status"),
    FieldSpec(BODY_BYTES_SENT, "number", "$body_bytes_sent"),
    FieldSpec(REQUEST_TIME, "number", "$request_time, seconds with millisecond resolution"),
    FieldSpec(UPSTREAM_RESPONSE_TIME, "string", "$upstream_response_time ('' when no upstream was asked)"),
    FieldSpec(USER_AGENT, "string", "$http_user_agent"),
)
POSTGRES_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(TIMESTAMP, "string", "%m of log_line_prefix: 2026-11-29 10:15:02.123 UTC"),
    FieldSpec(PID, "number", "%p: the backend process ID"),
    FieldSpec(DB_USER, "string", "%u (absent on background-process lines)", always=False),
    FieldSpec(DATABASE, "string", "%d (absent on background-process lines)", always=False),
    FieldSpec(LEVEL, "string", "LOG, WARNING, ERROR, FATAL, PANIC, ..."),
    FieldSpec(DURATION_MS, "number", "slow-query lines only: 'duration: N ms'", always=False),
    FieldSpec(MESSAGE, "string", "the statement (slow-query lines) or the message text"),
    FieldSpec(SERVICE, "string", "added by the collector: the catalog's postgres service name"),
)
FIELDS: dict[LogFormat, tuple[FieldSpec, ...]] = {
    "backend": BACKEND_FIELDS,
    "nginx": NGINX_FIELDS,
    "postgres": POSTGRES_FIELDS,
}

# Which lines count as errors, per format (the metric filters and the error panels use these).
BACKEND_ERROR_LEVELS = ("ERROR", "CRITICAL")
POSTGRES_ERROR_LEVELS = ("ERROR", "FATAL", "PANIC")
NGINX_ERROR_STATUS = 500  # 5xx: the request failed on our side
# An NGINX request at least this slow is listed by the slow-request panel and query.
NGINX_SLOW_REQUEST_SECONDS = 1.0
# PostgreSQL logs every statement that runs at least this long (log_min_duration_statement).
POSTGRES_SLOW_STATEMENT_MS = 1000

# --- what the platform must configure ----------------------------------------------------

NGINX_LOG_FORMAT_NAME = "screener_json"


def nginx_log_format(service: str) -> str:
    """The exact `log_format` (http block) and `access_log` directives for the nginx service.

    `escape=json` makes NGINX escape quotes and control characters, so every
    line is one valid JSON object whatever a client sends in its headers.
    """
    fields = (
        f'"{TIMESTAMP}":"$time_iso8601"',
        f'"{SERVICE}":"{service}"',
        f'"{REQUEST_ID}":"$request_id"',
        f'"{REMOTE_ADDR}":"$remote_addr"',
        f'"{METHOD}":"$request_method"',
        f'"{URI}":"$uri"',
        f'"{STATUS}":$status',
        f'"{BODY_BYTES_SENT}":$body_bytes_sent',
        f'"{REQUEST_TIME}":$request_time',
        f'"{UPSTREAM_RESPONSE_TIME}":"$upstream_response_time"',
        f'"{USER_AGENT}":"$http_user_agent"',
    )
    body = ",".join(fields)
    return (
        f"log_format {NGINX_LOG_FORMAT_NAME} escape=json '{{{body}}}';\n"
        f"access_log /dev/stdout {NGINX_LOG_FORMAT_NAME};\n"
        "proxy_set_header X-Request-ID $request_id;"
    )


# postgresql.conf settings; `log_line_prefix` must match POSTGRES_LINE_REGEX below.
POSTGRES_SETTINGS: dict[str, str] = {
    "log_destination": "'stderr'",
    "logging_collector": "off",
    "log_min_duration_statement": str(POSTGRES_SLOW_STATEMENT_MS),
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}


def postgres_settings_text() -> str:
    return "\n".join(f"{key} = {value}" for key, value in POSTGRES_SETTINGS.items())


# --- parser definitions (rendered into the collector's parsers file) ---------------------


@dataclass(frozen=True)
class ParserSpec:
    """A Fluent Bit [PARSER]: `json`, or `regex` with Onigmo named groups `(?<name>...)`."""

    name: str
    format: Literal["json", "regex"]
    regex: str | None = None
    # Fluent Bit's `Types` option: fields converted from the captured text.
    types: tuple[tuple[str, Literal["integer", "float"]], ...] = ()


# %m [%p] %q%u@%d : "%q" ends the prefix for background processes, which then lack user@database.
POSTGRES_LINE_REGEX = (
    r"^(?<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [A-Za-z0-9+-]+) "
    r"\[(?<pid>\d+)\] "
    r"(?:(?<user>[^@\s]*)@(?<database>\S*) )?"
    r"(?<level>[A-Z0-9]+):\s+"
    r"(?:duration: (?<duration_ms>\d+(?:\.\d+)?) ms\s+(?:statement|execute [^:]*|parse [^:]*|bind [^:]*): )?"
    r"(?<message>[\s\S]*)$"
)
# A line that starts a PostgreSQL log entry; any other line continues the previous one.
POSTGRES_ENTRY_START_REGEX = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} "

PARSERS: dict[LogFormat, ParserSpec] = {
    "backend": ParserSpec("screener_backend", "json"),
    "nginx": ParserSpec("screener_nginx", "json"),
    "postgres": ParserSpec(
        "screener_postgres", "regex", POSTGRES_LINE_REGEX, types=(("pid", "integer"), ("duration_ms", "float"))
    ),
}
POSTGRES_MULTILINE_PARSER = "screener_postgres_multiline"
