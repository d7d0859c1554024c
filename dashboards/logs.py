"""The Logs dashboard: error lines by service, one request across services, NGINX failures and slow requests,
PostgreSQL slow queries. Every query is a Logs Insights query from `infra.logs.queries` (the contract's fields).

It reads the environment's CloudWatch Logs data source by UID (there is one
per environment, like its log groups), so it is uploaded by the logs
component where logs are collected rather than registered for every stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grafana_foundation_sdk.builders.cloudwatch import CloudWatchLogsQuery
from grafana_foundation_sdk.builders.dashboard import TextBoxVariable
from grafana_foundation_sdk.builders.logs import Panel as LogsPanel
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.models.cloudwatch import CloudWatchQueryMode, LogsQueryLanguage
from grafana_foundation_sdk.models.common import DataSourceRef

from dashboards.common import Rows, dashboard
from dashboards.context import DashboardContext
from infra.logs.contract import REQUEST_ID
from infra.logs.queries import (
    ERRORS,
    ERRORS_BY_SERVICE,
    NGINX_5XX,
    NGINX_5XX_RATE,
    NGINX_SLOW,
    ONE_REQUEST,
    POSTGRES_SLOW,
    LogQuery,
    one_request_text,
)

SLUG = "logs"
TITLE = "Logs"
CLOUDWATCH_DATASOURCE_TYPE = "cloudwatch"
REQUEST_VARIABLE = REQUEST_ID


def cloudwatch_datasource_uid(name_prefix: str) -> str:
    return f"{name_prefix}-cloudwatch-logs"


def _query(
    source: DataSourceRef, region: str, groups: Mapping[str, str], query: LogQuery, text: str | None = None
) -> CloudWatchLogsQuery:
    return (
        CloudWatchLogsQuery()
        .datasource(source)
        .query_mode(CloudWatchQueryMode.LOGS)
        .query_language(LogsQueryLanguage.CWLI)
        .region(region)
        .id(query.slug.replace("-", "_"))
        .ref_id("A")
        .expression(text if text is not None else query.text)
        .log_group_names([groups[kind] for kind in query.group_kinds])
    )


def build(
    ctx: DashboardContext, region: str, group_names: Mapping[str, str], services: Sequence[str]
) -> dict[str, Any]:
    """`group_names`: group kind -> log group name (`infra.components.logs.log_group_name`)."""
    source = DataSourceRef(type_val=CLOUDWATCH_DATASOURCE_TYPE, uid=cloudwatch_datasource_uid(ctx.name_prefix))

    def q(query: LogQuery, text: str | None = None) -> CloudWatchLogsQuery:
        return _query(source, region, group_names, query, text)

    rows: Rows = {
        "Errors": [
            (
                Timeseries()
                .title(ERRORS_BY_SERVICE.title)
                .description("Backend and worker lines at ERROR or CRITICAL, per service, in 5-minute bins.")
                .datasource(source)
                .with_target(q(ERRORS_BY_SERVICE).stats_groups(["bin(5m)", "service"]))
                .unit("short")
                .span(24)
                .height(8)
            ),
            (
                LogsPanel()
                .title(ERRORS.title)
                .description("The newest error lines; exc_info holds the stack trace. Copy a request_id into the box.")
                .datasource(source)
                .with_target(q(ERRORS))
                .wrap_log_message(True)
                .span(24)
                .height(10)
            ),
        ],
        "One request": [
            (
                LogsPanel()
                .title("Every line of request $request_id")
                .description(
                    "NGINX's access line and every backend line that carries the same request_id, oldest first."
                )
                .datasource(source)
                .with_target(q(ONE_REQUEST, one_request_text(f"${REQUEST_VARIABLE}")))
                .wrap_log_message(True)
                .span(24)
                .height(10)
            ),
        ],
        "NGINX": [
            (
                Timeseries()
                .title(NGINX_5XX_RATE.title)
                .description("Responses with status 500 and above, per status, per minute.")
                .datasource(source)
                .with_target(q(NGINX_5XX_RATE).stats_groups(["bin(1m)", "status"]))
                .unit("short")
                .span(12)
                .height(8)
            ),
            (
                Table()
                .title(NGINX_5XX.title)
                .description("Which paths fail, and how often, in the selected time range.")
                .datasource(source)
                .with_target(q(NGINX_5XX))
                .span(12)
                .height(8)
            ),
            (
                Table()
                .title(NGINX_SLOW.title)
                .description("request_time is NGINX's whole request; upstream_response_time is the backend's part.")
                .datasource(source)
                .with_target(q(NGINX_SLOW))
                .span(24)
                .height(8)
            ),
        ],
        "PostgreSQL": [
            (
                Table()
                .title(POSTGRES_SLOW.title)
                .description("Statements that ran longer than log_min_duration_statement (1 s), slowest first.")
                .datasource(source)
                .with_target(q(POSTGRES_SLOW))
                .span(24)
                .height(10)
            ),
        ],
    }
    return dashboard(
        ctx,
        SLUG,
        TITLE,
        f"Container logs of {ctx.environment} in CloudWatch Logs (contract: infra/logs/contract.py). "
        f"Paste a request_id to see every line of that request; services with parsed logs: {', '.join(services)}.",
        rows,
        variables=[
            TextBoxVariable(REQUEST_VARIABLE)
            .label("request_id")
            .description("X-Request-ID of one request (from an NGINX line, an error line or a user report)")
            .default_value("")
        ],
    )
