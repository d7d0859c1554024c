"""Grafana checks against a fake Grafana that answers as its HTTP API docs say (health 200 OK / 400 ERROR /
404, dashboards by UID, provisioning rule groups, the data source proxy's Prometheus API)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from infra.components.synthetics_checks import plan_checks
from infra.config.synthetics import SM_DATASOURCE_UID
from tests.verify.support import api, fake_api, target_of
from verify.grafana_checks import (
    check_dashboards,
    check_datasources,
    check_rule_groups,
    check_synthetics,
    dashboard_uids,
    datasource_uids,
    expected_rule_groups,
    synthetics_query_path,
)
from verify.report import Status
from verify.target import Target

Routes = dict[tuple[str, str], tuple[int, Any]]


def healthy_grafana(target: Target) -> Routes:
    routes: Routes = {}
    for uid in filter(None, datasource_uids(target).values()):
        routes[("GET", f"/api/datasources/uid/{uid}/health")] = (
            200,
            {"status": "OK", "message": "Data source is working"},
        )
    for uid in dashboard_uids(target):
        routes[("GET", f"/api/dashboards/uid/{uid}")] = (200, {"dashboard": {"uid": uid}, "meta": {}})
    for group in expected_rule_groups(target):
        routes[("GET", f"/api/v1/provisioning/folder/{target.name_prefix}/rule-groups/{group}")] = (
            200,
            {"title": group, "folderUid": target.name_prefix, "interval": 60, "rules": [{"uid": "r1"}]},
        )
    return routes


def synthetics_route(target: Target, reporting: list[str]) -> Routes:
    """The one query the check sends, answered with a series per reporting job."""
    path, _window = synthetics_query_path(target)
    series = [{"metric": {"job": job}, "value": [1733486400, "3"]} for job in reporting]
    document = {"status": "success", "data": {"resultType": "vector", "result": series}}
    return {("GET", "/" + urllib.parse.unquote(path)): (200, document)}


def test_a_healthy_grafana_passes_every_check() -> None:
    target = target_of("staging")
    jobs = [check.job(target.name_prefix) for check in plan_checks(target.settings)]
    with fake_api({**healthy_grafana(target), **synthetics_route(target, jobs)}) as (url, _):
        grafana = api(url)
        results = [
            *check_datasources(grafana, target),
            check_dashboards(grafana, target),
            check_rule_groups(grafana, target),
            check_synthetics(grafana, target),
        ]
    assert [r.status for r in results] == [Status.PASS] * 6, results
    assert [r.check for r in results[:3]] == [
        "grafana.datasource.amp",
        "grafana.datasource.amp-alertmanager",
        "grafana.datasource.cloudwatch-logs",
    ]


def test_a_data_source_whose_health_check_fails_reports_grafanas_message() -> None:
    target = target_of("staging")
    routes = healthy_grafana(target)
    uid = target.output("grafana_datasource_uid")
    message = "AccessDenied: User: arn:aws:sts::123:assumed-role/grafana is not authorized to perform: sts:AssumeRole"
    routes[("GET", f"/api/datasources/uid/{uid}/health")] = (400, {"status": "ERROR", "message": message})
    with fake_api(routes) as (url, _):
        amp, *others = check_datasources(api(url), target)
    assert (amp.check, amp.status, amp.evidence) == (
        "grafana.datasource.amp",
        Status.FAIL,
        f"{uid}: HTTP 400: {message}",
    )
    assert [r.status for r in others] == [Status.PASS, Status.PASS]


def test_a_plugin_without_a_health_check_warns_and_an_absent_data_source_or_plugin_fails() -> None:
    """Grafana's answers (pkg/api/datasources.go, pkg/api/plugins.go): 404 "Not found" for a plugin without
    a health check, 404 "Plugin not found" for a plugin not installed, 500 for a UID nobody has."""
    target = target_of("staging")
    routes = healthy_grafana(target)
    amp_uid = target.output("grafana_datasource_uid")
    alertmanager_uid = target.output("grafana_alertmanager_datasource_uid")
    logs_uid = target.output("logs_datasource_uid")
    routes[("GET", f"/api/datasources/uid/{amp_uid}/health")] = (404, {"message": "Plugin not found"})
    routes[("GET", f"/api/datasources/uid/{alertmanager_uid}/health")] = (404, {"message": "Not found"})
    routes[("GET", f"/api/datasources/uid/{logs_uid}/health")] = (
        500,
        {"message": "Unable to load datasource metadata"},
    )
    with fake_api(routes) as (url, _):
        amp, alertmanager, logs = check_datasources(api(url), target)
    assert (amp.status, amp.evidence) == (Status.FAIL, f"{amp_uid}: HTTP 404: Plugin not found")
    assert alertmanager.status is Status.WARN
    assert (logs.status, logs.evidence) == (
        Status.FAIL,
        f"{logs_uid} does not exist (HTTP 500: Unable to load datasource metadata)",
    )


def test_dev_has_no_logs_data_source_and_says_why() -> None:
    target = target_of("dev")
    with fake_api(healthy_grafana(target)) as (url, _):
        *_, logs = check_datasources(api(url), target)
    assert logs.status is Status.SKIP
    assert "monitoring:collection.clusterName is not set" in logs.evidence


def test_a_missing_dashboard_and_rule_group_are_named() -> None:
    target = target_of("staging")
    routes = healthy_grafana(target)
    del routes[("GET", "/api/dashboards/uid/screener-staging-slo")]
    del routes[("GET", "/api/v1/provisioning/folder/screener-staging/rule-groups/grafana-heartbeat")]
    with fake_api(routes) as (url, _):
        dashboards = check_dashboards(api(url), target)
        groups = check_rule_groups(api(url), target)
    assert (dashboards.status, dashboards.evidence) == (
        Status.FAIL,
        "missing: screener-staging-slo (HTTP 404: Not found)",
    )
    assert groups.status is Status.FAIL
    assert groups.evidence == "in folder screener-staging: grafana-heartbeat (HTTP 404: Not found)"


def test_the_stacks_rule_groups_follow_its_collection_and_checks() -> None:
    assert "amp-data-source" not in expected_rule_groups(target_of("dev"))  # dev collects nothing
    # The synthetic checks' alerts are one group of family rules over every check, whatever the catalog.
    assert expected_rule_groups(target_of("staging")) == ["amp-data-source", "grafana-heartbeat", "synthetics"]


def test_a_synthetic_check_that_stopped_reporting_is_named() -> None:
    target = target_of("staging")
    jobs = [check.job(target.name_prefix) for check in plan_checks(target.settings)]
    assert len(jobs) >= 2
    with fake_api(synthetics_route(target, jobs[1:])) as (url, seen):
        result = check_synthetics(api(url), target)
    assert result.status is Status.FAIL
    assert result.evidence.endswith(f"from: {jobs[0]}")
    ((_, path, _),) = seen
    assert path.startswith(f"/api/datasources/proxy/uid/{SM_DATASOURCE_UID}/api/v1/query?query=count by (job)")


def test_a_missing_amp_data_source_output_fails_rather_than_skips() -> None:
    target = target_of("staging", grafana_datasource_uid=None)
    with fake_api(healthy_grafana(target)) as (url, _):
        amp, *_ = check_datasources(api(url), target)
    assert (amp.status, amp.evidence) == (Status.FAIL, "no output names the AMP data source")
