"""Grafana, synthetic-check and Helm policies: each against a violating and a compliant resource."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import Secret
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy
from screener_policies.grafana import (
    CONTACT_POINT,
    HELM_RELEASE,
    SYNTHETIC_CHECK,
    dashboard_has_uid,
    dashboard_panels_name_a_datasource,
    dashboard_refreshes_every_30s,
    helm_chart_version_pinned,
    slack_credentials_as_secrets,
    synthetic_check_probes_in_prod,
    synthetic_check_uses_https,
    synthetic_check_verifies_tls,
)

from tests.policies.support import args, messages

DASHBOARD = "grafana:oss/dashboard:Dashboard"
DATASOURCE = {"type": "prometheus", "uid": "amp"}


def dashboard(**model: Any) -> Any:
    base = {"title": "API", "uid": "screener-api", "refresh": "30s", "panels": []}
    return args(DASHBOARD, {"configJson": json.dumps({**base, **model}), "folder": "f"})


def test_dashboard_with_a_stable_uid_passes() -> None:
    assert messages(dashboard_has_uid, dashboard()) == []


def test_dashboard_without_uid_is_refused() -> None:
    (message,) = messages(dashboard_has_uid, dashboard(uid=None))
    assert message.startswith("dashboard 'API' has uid None; without a fixed uid every update breaks links")


def test_dashboard_config_that_is_not_json_is_refused() -> None:
    (message,) = messages(dashboard_has_uid, args(DASHBOARD, {"configJson": "{"}))
    assert message.startswith("dashboard 'subject': configJson is not JSON")


def test_dashboard_refreshing_every_30s_passes() -> None:
    assert messages(dashboard_refreshes_every_30s, dashboard()) == []


def test_dashboard_refreshing_every_minute_is_refused() -> None:
    (message,) = messages(dashboard_refreshes_every_30s, dashboard(refresh="1m"))
    assert message == "dashboard 'API' refreshes every '1m', not '30s' as the spec asks. Fix: set refresh to '30s'."


def test_panels_naming_a_datasource_on_the_panel_or_every_target_pass() -> None:
    panels = [
        {"type": "row", "title": "Traffic"},
        {"type": "timeseries", "title": "RPS", "datasource": DATASOURCE},
        {"type": "stat", "title": "Errors", "targets": [{"expr": "x", "datasource": DATASOURCE}]},
        {"type": "text", "title": "Notes"},
    ]
    assert messages(dashboard_panels_name_a_datasource, dashboard(panels=panels)) == []


def test_panel_without_datasource_is_refused_even_inside_a_collapsed_row() -> None:
    hidden = {"type": "timeseries", "title": "p95 latency", "targets": [{"expr": "x"}]}
    panels = [{"type": "row", "title": "Latency", "collapsed": True, "panels": [hidden]}]
    (message,) = messages(dashboard_panels_name_a_datasource, dashboard(panels=panels))
    assert message.startswith("dashboard 'API', panel 'p95 latency' has no data source reference")


def contact_point(slack: dict[str, Any]) -> Any:
    """A contact point as the engine's remediation pass receives it (secrets still marked)."""
    wire = {"name": "chat", "slacks": [slack]}
    return args(CONTACT_POINT, unknown_checking_proxy(deserialize_properties(wire, True)))


SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"


def secret(value: str) -> dict[str, str]:
    return {"4dabf18193072939515e22adb298388d": SECRET_MARK, "value": value}


def test_contact_point_with_secret_slack_url_needs_no_remediation() -> None:
    assert (
        slack_credentials_as_secrets(contact_point({"url": secret("https://hooks.slack.com/services/T/B/x")})) is None
    )


def test_plain_slack_url_and_token_are_turned_into_secrets() -> None:
    fixed = slack_credentials_as_secrets(
        contact_point({"url": "https://hooks.slack.com/services/T/B/x", "token": "xoxb-1"})
    )
    assert fixed is not None
    entry = fixed["slacks"][0]["__target"]
    assert isinstance(entry["url"], Secret) and entry["url"].value == "https://hooks.slack.com/services/T/B/x"
    assert isinstance(entry["token"], Secret) and entry["token"].value == "xoxb-1"


def check(target: str = "https://api.screener.kr/health", probes: int = 3, **settings: Any) -> dict[str, Any]:
    return {
        "job": "api-health",
        "target": target,
        "probes": list(range(probes)),
        "settings": settings or {"http": {"method": "GET"}},
    }


def test_https_check_passes() -> None:
    assert messages(synthetic_check_uses_https, args(SYNTHETIC_CHECK, check())) == []


def test_plain_http_check_is_refused() -> None:
    (message,) = messages(synthetic_check_uses_https, args(SYNTHETIC_CHECK, check("http://api.screener.kr/health")))
    assert message.startswith("synthetic check 'api-health' probes 'http://api.screener.kr/health' over plain HTTP")


def test_plain_http_check_with_the_waiver_label_passes() -> None:
    waived = {**check("http://legacy.screener.kr/ping"), "labels": {"plain_http": "waived", "service": "api"}}
    assert messages(synthetic_check_uses_https, args(SYNTHETIC_CHECK, waived)) == []


def test_plain_http_check_with_another_label_value_is_still_refused() -> None:
    forged = {**check("http://legacy.screener.kr/ping"), "labels": {"plain_http": "yes"}}
    (message,) = messages(synthetic_check_uses_https, args(SYNTHETIC_CHECK, forged))
    assert "allowHttpReason" in message


def test_multihttp_entry_over_http_is_refused() -> None:
    multi = check(multihttp={"entries": [{"request": {"url": "http://screener.kr/", "method": "GET"}}]})
    (message,) = messages(synthetic_check_uses_https, args(SYNTHETIC_CHECK, multi))
    assert "multihttp entry 0 requests 'http://screener.kr/', not https" in message


def test_check_verifying_tls_passes() -> None:
    verified = check(http={"tlsConfig": {"serverName": "api.screener.kr"}})
    assert messages(synthetic_check_verifies_tls, args(SYNTHETIC_CHECK, verified)) == []


def test_check_skipping_tls_verification_is_refused() -> None:
    insecure = check(http={"tlsConfig": {"insecureSkipVerify": True}})
    (message,) = messages(synthetic_check_verifies_tls, args(SYNTHETIC_CHECK, insecure))
    assert message.startswith("synthetic check 'api-health' skips TLS verification (http)")


def test_prod_check_from_three_probes_passes_and_dev_may_use_one() -> None:
    assert messages(synthetic_check_probes_in_prod, args(SYNTHETIC_CHECK, check(probes=3), stack="prod")) == []
    assert messages(synthetic_check_probes_in_prod, args(SYNTHETIC_CHECK, check(probes=1), stack="dev")) == []


def test_prod_check_from_two_probes_is_refused() -> None:
    (message,) = messages(synthetic_check_probes_in_prod, args(SYNTHETIC_CHECK, check(probes=2), stack="prod"))
    assert message.startswith("prod synthetic check 'api-health' runs from 2 probe(s)")
    assert "at least 3 probes" in message


def test_helm_release_at_an_exact_chart_version_passes() -> None:
    release = {"name": "otel", "chart": "opentelemetry-collector", "version": "0.108.0"}
    assert messages(helm_chart_version_pinned, args(HELM_RELEASE, release)) == []


def test_helm_release_without_version_or_with_a_range_is_refused() -> None:
    (latest,) = messages(helm_chart_version_pinned, args(HELM_RELEASE, {"name": "otel", "chart": "otel"}))
    assert "installs chart 'otel' at version (latest)" in latest
    (ranged,) = messages(helm_chart_version_pinned, args(HELM_RELEASE, {"chart": "otel", "version": "^0.108"}))
    assert "at version ^0.108; an unpinned chart changes" in ranged
