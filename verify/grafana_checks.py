"""Grafana: data sources healthy, dashboards present, rule groups present, synthetic checks reporting.

Contract (Grafana HTTP API docs, grafana.com/docs/grafana/latest/developers/http_api/):
- data_source: `GET /api/datasources/uid/:uid/health` answers 200 `{"status": "OK", "message"}`, 400 with
  `{"status": "ERROR", "message"}` when the data source's own check fails (an AssumeRole denied, say), 403
  when the token may not query it, 500 "Unable to load datasource metadata" when no data source has the UID,
  404 "Plugin not found" when its plugin is not installed, 404 "Not found" when the plugin has no health
  check (grafana/grafana pkg/api/datasources.go checkDatasourceHealth, pkg/api/plugins.go
  translatePluginRequestErrorToAPIError);
- dashboard: `GET /api/dashboards/uid/:uid` -> 200, or 404 "Dashboard not found";
- alerting_provisioning: `GET /api/v1/provisioning/folder/:folderUid/rule-groups/:group` -> 200 with
  `rules`, 404 when the group does not exist;
- data source proxy: `GET /api/datasources/proxy/uid/:uid/api/v1/query?query=` is the Prometheus API of
  the data source (Synthetic Monitoring writes its probe results to the stack's `grafanacloud-prom`).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from dashboards.context import DashboardContext
from infra.alerting.grafana_rules import amp_health_rules, heartbeat_rule_group
from infra.alerting.uptime_rules import job_selector, result_window_seconds, uptime_rule_groups
from infra.components.synthetics_checks import plan_checks
from infra.config.synthetics import SM_DATASOURCE_UID
from verify.http_api import JsonApi
from verify.report import Result, failed, passed, skipped, warned
from verify.target import Target

ROLE_FIX = (
    "open the data source in Grafana and press 'Save & test' for the full error; a denied AssumeRole means the "
    "role's trust policy and the data source's external ID disagree (monitoring:grafana.externalId)"
)


def datasource_uids(target: Target) -> dict[str, str | None]:
    """Name -> UID of each data source the stack declares (None: the stack has none of that kind)."""
    logs = target.output("logs_datasource_uid")
    return {
        "AMP": target.output("grafana_datasource_uid"),
        "AMP Alertmanager": target.output("grafana_alertmanager_datasource_uid"),
        "CloudWatch Logs": logs,
    }


def check_datasources(grafana: JsonApi, target: Target) -> list[Result]:
    results = []
    for name, uid in datasource_uids(target).items():
        check = f"grafana.datasource.{name.lower().replace(' ', '-')}"
        if uid is None and name == "CloudWatch Logs":
            # Only the logs data source is optional: the stack declares it where it collects logs.
            why = str(target.output("logs_collection") or "no logs_datasource_uid output")
            results.append(skipped(check, f"no {name} data source: {why}"))
            continue
        if uid is None:
            results.append(
                failed(check, f"no output names the {name} data source", f"run `make up STACK={target.stack}`")
            )
            continue
        answer = grafana.get(f"api/datasources/uid/{urllib.parse.quote(uid)}/health")
        status = answer.document.get("status") if isinstance(answer.document, dict) else None
        if answer.ok and status == "OK":
            results.append(passed(check, f"{uid}: {answer.document.get('message', 'OK')}"))
        elif answer.status == 404 and answer.message() == "HTTP 404: Not found":
            results.append(
                warned(
                    check,
                    f"{uid}: its plugin has no health check ({answer.message()})",
                    "open Explore with this data source selected and run a query to see it answer",
                )
            )
        elif answer.status == 404:
            results.append(
                failed(check, f"{uid}: {answer.message()}", "install the data source's plugin (monitoring:grafana)")
            )
        elif answer.status == 500 and "datasource metadata" in answer.message():
            results.append(failed(check, f"{uid} does not exist ({answer.message()})", "`make up` declares it"))
        elif answer.status == 403:
            results.append(
                failed(check, f"{uid}: {answer.message()}", "the token needs datasources:query on this data source")
            )
        else:
            results.append(failed(check, f"{uid}: {answer.message()}", ROLE_FIX))
    return results


def dashboard_uids(target: Target) -> list[str]:
    """The UID of every dashboard the stack's outputs list (URLs of the form <grafana>/d/<uid>/<slug>)."""
    urls = list((target.output("grafana_dashboard_urls") or {}).values())
    if target.output("logs_dashboard_url"):
        urls.append(target.output("logs_dashboard_url"))
    uids = []
    for url in urls:
        parts = urllib.parse.urlparse(url).path.split("/")
        if "d" in parts and parts.index("d") + 1 < len(parts):
            uids.append(parts[parts.index("d") + 1])
    return uids


def check_dashboards(grafana: JsonApi, target: Target) -> Result:
    check = "grafana.dashboards"
    uids = dashboard_uids(target)
    if not uids:
        return failed(check, "no grafana_dashboard_urls output", f"run `make up STACK={target.stack}`")
    missing = [
        f"{uid} ({answer.message()})" for uid in uids if not (answer := grafana.get(f"api/dashboards/uid/{uid}")).ok
    ]
    if missing:
        return failed(check, f"missing: {', '.join(missing)}", "`make up` uploads them; check nobody deleted them")
    return passed(check, f"{len(uids)} dashboards exist: {', '.join(uids)}")


def expected_rule_groups(target: Target) -> list[str]:
    """Every Grafana-managed rule group the program uploads to the stack's folder."""
    settings = target.settings
    context = DashboardContext.from_settings(settings)
    groups = []
    if settings.collection.mode != "none":
        groups.append(amp_health_rules(context.datasource_uid, settings.grafana.no_data_for_minutes).name)
    groups.append(heartbeat_rule_group(context.datasource_uid, settings.name_prefix).name)
    checks = plan_checks(settings)
    groups += [
        group.name for group in uptime_rule_groups(checks, settings.synthetics, settings.name_prefix, SM_DATASOURCE_UID)
    ]
    return groups


def check_rule_groups(grafana: JsonApi, target: Target) -> Result:
    check = "grafana.rule-groups"
    folder = target.name_prefix  # the stack's dashboards folder holds its rule groups (infra/program.py)
    missing = []
    groups = expected_rule_groups(target)
    for group in groups:
        answer = grafana.get(f"api/v1/provisioning/folder/{folder}/rule-groups/{urllib.parse.quote(group)}")
        rules = answer.document.get("rules") if isinstance(answer.document, dict) else None
        if not answer.ok or not rules:
            missing.append(f"{group} ({answer.message() if not answer.ok else 'no rules'})")
    if missing:
        return failed(check, f"in folder {folder}: {', '.join(missing)}", "`make up` uploads them")
    return passed(check, f"{len(groups)} groups in folder {folder}: {', '.join(groups)}")


def synthetics_query_path(target: Target) -> tuple[str, int]:
    """The data-source-proxy query of every check's latest result, and the window it looks back (seconds)."""
    settings = target.settings
    window = result_window_seconds(settings.synthetics.frequency_seconds)
    selector = job_selector(plan_checks(settings), settings.name_prefix)
    expr = f"count by (job) (last_over_time(probe_success{{{selector}}}[{window}s]))"
    query = urllib.parse.urlencode({"query": expr}, quote_via=urllib.parse.quote)
    return f"api/datasources/proxy/uid/{SM_DATASOURCE_UID}/api/v1/query?{query}", window


def check_synthetics(grafana: JsonApi, target: Target) -> Result:
    check = "grafana.synthetics"
    settings = target.settings
    checks = plan_checks(settings)
    if not checks:
        return skipped(check, f"no public endpoint in the service catalog of {target.stack_file}: nothing is probed")
    path, window = synthetics_query_path(target)
    answer = grafana.get(path)
    if not answer.ok:
        return failed(
            check,
            f"cannot query {SM_DATASOURCE_UID}: {answer.message()}",
            "the token needs datasources:query on the Synthetic Monitoring metrics data source",
        )
    document: dict[str, Any] = answer.document
    reporting = {series["metric"].get("job") for series in document["data"]["result"]}
    silent = [
        check_spec.job(settings.name_prefix)
        for check_spec in checks
        if check_spec.job(settings.name_prefix) not in reporting
    ]
    if silent:
        return failed(
            check,
            f"no result in the last {window} s from: {', '.join(silent)}",
            "open Testing & synthetics > Checks in Grafana: a check that is disabled or whose probes are offline "
            "reports nothing (`make up` re-enables it)",
        )
    return passed(check, f"{len(checks)} checks reported within {window} s")
