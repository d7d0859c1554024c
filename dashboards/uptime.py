"""Uptime: availability of every public endpoint over 24 h / 7 d / 30 d and latency by probe location.

The series come from Grafana Synthetic Monitoring and live in the Grafana
Cloud stack's Prometheus, not in AMP, so this dashboard's `$datasource`
selects that data source. The same panels also make the public status page
(`build_status_page`): Grafana's public dashboards cannot resolve template
variables, so that rendering names the data source by UID and has none.
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import DatasourceVariable
from grafana_foundation_sdk.models.common import DataSourceRef

from dashboards.common import Rows, above, below, dashboard, datasource_variable, query, stat, timeseries
from dashboards.context import DashboardContext
from infra.alerting.rule_model import matchers, regex_literal
from infra.alerting.uptime_rules import cert_days_left_expr, failing_share_expr, result_window_seconds
from infra.config.synthetics import SM_DATASOURCE_TYPE, SM_DATASOURCE_UID

SLUG = "uptime"
TITLE = "Uptime"
STATUS_SLUG = "status"
STATUS_TITLE = "Status"

_VARIABLE_SOURCE = DataSourceRef(type_val=SM_DATASOURCE_TYPE, uid="${datasource}")
_FIXED_SOURCE = DataSourceRef(type_val=SM_DATASOURCE_TYPE, uid=SM_DATASOURCE_UID)
AVAILABILITY_WINDOWS = (("24 h", "24h"), ("7 d", "7d"), ("30 d", "30d"))


def checks_selector(ctx: DashboardContext) -> str:
    """Every synthetic check of this environment: their jobs are `<platform>-<env>-<service>-<name>`."""
    return matchers(job=f"~{regex_literal(ctx.name_prefix)}-.+")


def sm_datasource_variable() -> DatasourceVariable:
    return datasource_variable(
        SM_DATASOURCE_TYPE, SM_DATASOURCE_UID, "Grafana Cloud Prometheus, where Synthetic Monitoring writes its results"
    )


def _build(ctx: DashboardContext, slug: str, title: str, source: DataSourceRef, *, public: bool) -> dict[str, Any]:
    sm = ctx.synthetics
    sel = checks_selector(ctx)
    objective = ctx.slo.availability_percent / 100
    # Half the error budget left over the window: yellow; below the objective: red.
    halfway = 1 - (1 - objective) / 2
    window = result_window_seconds(sm.frequency_seconds)
    audience = "the public status page" if public else "the team"
    rows: Rows = {
        "Availability": [
            *(
                stat(
                    f"Availability, last {label}",
                    f"Share of successful checks per endpoint over the last {label}, all probe locations together; "
                    f"red below the {ctx.slo.availability_percent:g} % objective.",
                    "percentunit",
                    query(
                        f"avg by (instance) (avg_over_time(probe_success{{{sel}}}[{duration}]))",
                        "{{instance}}",
                        instant=True,
                        datasource=source,
                    ),
                    thresholds=below(objective, halfway),
                    decimals=3,
                    width=8,
                    datasource=source,
                )
                for label, duration in AVAILABILITY_WINDOWS
            ),
            timeseries(
                "Availability by endpoint",
                "Share of successful checks per endpoint over sliding 10-minute windows.",
                "percentunit",
                query(
                    f"avg by (instance) (avg_over_time(probe_success{{{sel}}}[10m]))", "{{instance}}", datasource=source
                ),
                thresholds=below(objective),
                min_value=0,
                max_value=1,
                datasource=source,
            ),
            timeseries(
                "Share of probe locations failing",
                f"Per endpoint, the share of probe locations whose latest check failed; the "
                f"SyntheticCheckFailing alert fires above {sm.failing_probes_percent:g} % held for "
                f"{sm.failing_for_minutes} minutes.",
                "percentunit",
                query(failing_share_expr(sel, window), "{{instance}}", datasource=source),
                thresholds=above(None, sm.failing_probes_percent / 100),
                min_value=0,
                max_value=1,
                datasource=source,
            ),
        ],
        "Response time": [
            timeseries(
                "Response time by probe location",
                "Total time of each check (DNS, connect, TLS, request and body) per endpoint and probe location.",
                "s",
                query(
                    f"avg by (instance, probe) (probe_duration_seconds{{{sel}}})",
                    "{{probe}} · {{instance}}",
                    datasource=source,
                ),
                min_value=0,
                datasource=source,
            ),
            timeseries(
                "Time per HTTP phase",
                "Where the time goes (resolve, connect, tls, processing, transfer), averaged over endpoints and "
                "probe locations.",
                "s",
                query(f"avg by (phase) (probe_http_duration_seconds{{{sel}}})", "{{phase}}", datasource=source),
                stacked=True,
                min_value=0,
                datasource=source,
            ),
        ],
        "TLS and responses": [
            stat(
                "Certificate valid for",
                f"Days until the first certificate of each endpoint's chain expires; the "
                f"SyntheticCertificateExpiring alert fires below {sm.cert_expiry_days} days.",
                "d",
                query(cert_days_left_expr(sel), "{{instance}}", instant=True, datasource=source),
                thresholds=below(sm.cert_expiry_days / 3, sm.cert_expiry_days),
                decimals=0,
                width=12,
                datasource=source,
            ),
            stat(
                "HTTP status code",
                "Latest status code per endpoint (the checks accept 200 only).",
                "none",
                query(
                    f"max by (instance) (probe_http_status_code{{{sel}}})",
                    "{{instance}}",
                    instant=True,
                    datasource=source,
                ),
                width=12,
                datasource=source,
            ),
        ],
    }
    return dashboard(
        ctx,
        slug,
        title,
        f"Availability and response time of the public endpoints as Grafana Synthetic Monitoring probes them "
        f"from {', '.join(sm.probes)} ({audience}).",
        rows,
        variables=() if public else (sm_datasource_variable(),),
    )


def build(ctx: DashboardContext) -> dict[str, Any]:
    """The team's uptime dashboard (registered with the others; `$datasource` picks the SM data source)."""
    return _build(ctx, SLUG, TITLE, _VARIABLE_SOURCE, public=False)


def build_status_page(ctx: DashboardContext) -> dict[str, Any]:
    """The same panels for the public status page: no variables, the data source named by UID."""
    return _build(ctx, STATUS_SLUG, STATUS_TITLE, _FIXED_SOURCE, public=True)
