"""make test-alert's pieces: the route it takes through the stack's own Alertmanager tree, what stops it
(maintenance, silence, inhibition, prod without CONFIRM), SNS metrics on botocore's Stubber, Grafana's
contact-point test on a fake Grafana, and the http-on-loopback guard of every URL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from infra.alerting.alertmanager import alertmanager_config
from oncall.alertmanager_api import AlertmanagerApi
from tests.http_stub import answer, serving
from tests.test_runbooks import github_anchors
from tests.verify.support import api, fake_api, stubbed, target_of
from verify.__main__ import main, refuse_prod
from verify.drill import (
    AlertDrill,
    CloudWatchDeliveries,
    DrillStoppedError,
    Timing,
    blockers,
    drill_labels,
    drill_runbook_url,
    grafana_contact_point_test,
    maintenance_active,
    recipients,
    route_of,
)
from verify.target import VerifyError, checked_url, short_stack_name

# 2026-12-06 is a Sunday; prod's weekly window is Sunday 18:00-19:00 Asia/Seoul, 09:00-10:00 UTC.
SUNDAY = datetime(2026, 12, 6, tzinfo=UTC)


def route_for(stack: str, severity: str, **settings_update: Any) -> Any:
    target = target_of(stack)
    settings = target.settings.model_copy(update=settings_update) if settings_update else target.settings
    topics = target.output("alert_topic_arns")
    return route_of(alertmanager_config(settings, topics), drill_labels(settings, severity), topics)


def test_the_test_alert_takes_the_severitys_own_route_with_its_chat_copy() -> None:
    warning, critical = route_for("staging", "warning"), route_for("staging", "critical")
    assert (warning.receiver, warning.audiences) == ("warning", ("warning", "chat"))
    assert (critical.receiver, critical.audiences) == ("critical", ("critical", "chat"))
    assert warning.send_resolved and critical.send_resolved


def test_page_on_warning_sends_the_warning_test_to_the_paging_topic() -> None:
    target = target_of("staging")
    notifications = target.settings.notifications.model_copy(update={"page_on_warning": True})
    route = route_for("staging", "warning", notifications=notifications)
    assert route.audiences == ("critical", "chat")


def test_the_labels_are_marked_as_a_test_of_a_real_service_in_the_stacks_env() -> None:
    settings = target_of("prod").settings
    labels = drill_labels(settings, "critical")
    assert labels["test"] == "true" and labels["env"] == "prod" and labels["severity"] == "critical"
    assert labels["service"] == settings.services[0].name
    with pytest.raises(DrillStoppedError, match="SERVICE=nope is not in the service catalog"):
        drill_labels(settings, "warning", "nope")


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (SUNDAY.replace(hour=8, minute=59), False),
        (SUNDAY.replace(hour=9, minute=0), True),
        (SUNDAY.replace(hour=9, minute=59), True),
        (SUNDAY.replace(hour=10, minute=0), False),
    ],
)
def test_prods_weekly_window_is_active_from_its_first_minute_to_its_last(moment: datetime, active: bool) -> None:
    assert maintenance_active(target_of("prod").settings, moment) is active


def test_a_maintenance_window_a_silence_or_an_inhibiting_alert_stops_the_test() -> None:
    target = target_of("prod")
    settings, topics = target.settings, target.output("alert_topic_arns")
    config = alertmanager_config(settings, topics)
    labels = drill_labels(settings, "warning")
    route = route_of(config, labels, topics)
    quiet = SUNDAY.replace(hour=12)
    assert blockers(config, labels, route, settings, [], [], quiet) == []
    in_window = blockers(config, labels, route, settings, [], [], SUNDAY.replace(hour=9, minute=30))
    assert in_window == ["a maintenance window (monitoring:maintenance) is active now: route 'warning' is muted"]

    matcher = {"name": "service", "value": labels["service"], "isRegex": False, "isEqual": True}
    silence = {
        "id": "s-1",
        "createdBy": "ops",
        "endsAt": "2026-12-06T14:00:00Z",
        "comment": "deploy",
        "matchers": [matcher],
        "status": {"state": "active"},
    }
    expired = {**silence, "id": "s-0", "status": {"state": "expired"}}
    assert blockers(config, labels, route, settings, [expired, silence], [], quiet) == [
        "silence s-1 by ops until 2026-12-06T14:00:00Z matches it (deploy)"
    ]

    down = {
        "labels": {"alertname": "ApiDown", "severity": "critical", "service": labels["service"]},
        "status": {"state": "active"},
    }
    assert blockers(config, labels, route, settings, [], [down], quiet) == [
        f"firing ApiDown ({labels['service']}) inhibits it"
    ]
    critical = drill_labels(settings, "critical")
    assert blockers(config, critical, route_of(config, critical, topics), settings, [], [down], quiet) == []


def test_prod_is_refused_without_confirm_prod() -> None:
    with pytest.raises(DrillStoppedError, match="CONFIRM=prod"):
        refuse_prod("acme/prod", "prod", "")
    with pytest.raises(DrillStoppedError):
        refuse_prod("acme/prod", "prod", "yes")
    refuse_prod("acme/prod", "prod", "prod")
    refuse_prod("acme/staging", "staging", "")


def test_sns_deliveries_are_summed_from_the_topics_cloudwatch_metrics() -> None:
    topics = target_of("staging").output("alert_topic_arns")
    since = datetime(2026, 12, 6, 12, 0, 40, tzinfo=UTC)
    now = since + timedelta(minutes=3)
    with stubbed("cloudwatch") as (cloudwatch, stubber):
        for metric, sums in (("NumberOfMessagesPublished", [1.0, 2.0]), ("NumberOfNotificationsDelivered", [2.0])):
            stubber.add_response(
                "get_metric_statistics",
                {"Datapoints": [{"Timestamp": since, "Sum": s, "Unit": "Count"} for s in sums]},
                {
                    "Namespace": "AWS/SNS",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TopicName", "Value": "screener-staging-alerts-warning"}],
                    "StartTime": since.replace(second=0),
                    "EndTime": now + timedelta(minutes=1),
                    "Period": 60,
                    "Statistics": ["Sum"],
                },
            )
        counts = CloudWatchDeliveries(cloudwatch, topics, clock=lambda: now).count("warning", since)
    assert counts == (3, 2)


def test_recipients_name_the_addresses_the_slack_channel_and_the_paging_service() -> None:
    target = target_of("prod")
    settings = target.settings
    route = route_for("prod", "critical")
    lines = recipients(settings, route, {"paging_service_url": "https://acme.pagerduty.com/service-directory/P1"})
    spec = settings.notifications
    assert lines[0] == f"email (SNS critical): {', '.join([*spec.emails, *spec.paging_emails])}"
    assert spec.slack is not None
    assert f"channel {spec.slack.channel_id}" in lines[1]
    if settings.paging is not None:
        assert lines[2] == "PagerDuty: service https://acme.pagerduty.com/service-directory/P1"


def grafana_config(name: str) -> dict[str, Any]:
    receiver = {
        "name": name,
        "grafana_managed_receiver_configs": [
            {
                "uid": "em1",
                "name": name,
                "type": "email",
                "settings": {"addresses": "a@example.com"},
                "secureFields": {},
            },
            {"uid": "sl1", "name": name, "type": "slack", "settings": {}, "secureFields": {"url": True}},
        ],
    }
    return {"template_files": {}, "alertmanager_config": {"route": {"receiver": name}, "receivers": [receiver]}}


def test_grafanas_contact_point_test_sends_the_stored_receiver_and_reports_a_failed_integration() -> None:
    settings = target_of("staging").settings
    name = f"{settings.name_prefix}-oncall"
    labels = drill_labels(settings, "critical")
    config = grafana_config(name)
    result = {
        "alert": {"labels": labels},
        "notified_at": "2026-12-06T12:00:00Z",
        "receivers": [
            {
                "name": name,
                "grafana_managed_receiver_configs": [
                    {"name": name, "uid": "em1", "status": "ok"},
                    {"name": name, "uid": "sl1", "status": "failed", "error": "invalid_auth"},
                ],
            }
        ],
    }
    routes = {
        ("GET", "/api/alertmanager/grafana/config/api/v1/alerts"): (200, config),
        ("POST", "/api/alertmanager/grafana/config/api/v1/receivers/test"): (207, result),
    }
    with (
        fake_api(routes) as (url, seen),
        pytest.raises(RuntimeError, match=f"{name}/{name}: failed \\(invalid_auth\\)"),
    ):
        grafana_contact_point_test(api(url), settings, "critical", labels, {"summary": "test"})
    posted = seen[-1][2]
    assert posted == {
        "alert": {"labels": labels, "annotations": {"summary": "test"}},
        "receivers": config["alertmanager_config"]["receivers"],
    }


def test_plain_http_is_refused_unless_local_and_on_loopback() -> None:
    assert checked_url("https://aps-workspaces.ap-northeast-2.amazonaws.com/x", "u", local=False)
    assert checked_url("http://127.0.0.1:9093", "alertmanager_url", local=True) == "http://127.0.0.1:9093"
    refused = re.escape("alertmanager_url=http://127.0.0.1:9093 is plain http: pass --local")
    with pytest.raises(VerifyError, match=refused):
        checked_url("http://127.0.0.1:9093", "alertmanager_url", local=False)
    with pytest.raises(VerifyError, match="not an https URL"):
        checked_url("http://grafana.example.com", "grafana_url", local=True)
    assert short_stack_name("acme/staging") == short_stack_name("staging") == "staging"


def test_the_command_refuses_an_http_url_without_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(target_of("staging").outputs))
    code = main(
        ["check", "--stack", "acme/staging", "--outputs", str(outputs), "--grafana-url", "http://127.0.0.1:3000"]
    )
    assert code == 2
    assert "grafana_url=http://127.0.0.1:3000 is plain http: pass --local" in capsys.readouterr().err


def test_the_test_alerts_runbook_link_leads_to_a_heading_of_the_runbooks() -> None:
    settings = target_of("staging").settings
    url = drill_runbook_url(settings)
    base, anchor = url.split("#")
    assert base == settings.rules.runbook_base_url
    assert anchor in github_anchors(Path("docs/runbooks.md").read_text())


def fake_alertmanager(posted: list[list[dict[str, Any]]], state: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    """Alertmanager API v2 as far as the drill uses it: no silences, the posted alert held in `state`."""

    class FakeAlertmanager(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.endswith("/api/v2/silences") or not posted:
                answer(self, [])
                return
            answer(self, [{**posted[0][0], "status": state}])

        def do_POST(self) -> None:
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answer(self, None)

    return FakeAlertmanager


@dataclass(frozen=True)
class PostsDelivered:
    """Every post to Alertmanager shows up as one message published and delivered on every topic."""

    posted: list[list[dict[str, Any]]]

    def count(self, audience: str, since: datetime) -> tuple[int, int]:
        return len(self.posted), len(self.posted)


def drill_against(
    url: str, settings: Any, posted: list[list[dict[str, Any]]], said: list[str], grafana: Any = None
) -> AlertDrill:
    return AlertDrill(
        settings=settings,
        topic_arns=target_of("staging").output("alert_topic_arns"),
        outputs={},
        alertmanager=AlertmanagerApi(url, "ap-northeast-2", Credentials("AKIDTESTONLY", "test-only")),
        deliveries=PostsDelivered(posted),
        grafana=grafana,
        timing=Timing(held_timeout=2, delivered_timeout=2, resolved_timeout=2, poll=0.05),
        say=said.append,
    )


def test_an_alert_alertmanager_suppresses_stops_the_run_and_is_resolved_at_once() -> None:
    """Alertmanager says the posted alert is suppressed (an inhibition nobody could foresee): the run stops,
    names what suppressed it, and still posts the resolve so the alert does not linger."""
    settings = target_of("staging").settings
    posted: list[list[dict[str, Any]]] = []
    said: list[str] = []
    suppressed = {"state": "suppressed", "silencedBy": [], "inhibitedBy": ["fp-1"]}
    stopped = pytest.raises(DrillStoppedError, match=re.escape("inhibited by ['fp-1']"))
    with serving(fake_alertmanager(posted, suppressed)) as url, stopped:
        drill_against(url, settings, posted, said).run("warning", timedelta(minutes=5))
    fired, resolved = posted
    assert fired[0]["labels"] == resolved[0]["labels"] == drill_labels(settings, "warning")
    assert datetime.fromisoformat(resolved[0]["endsAt"]) < datetime.fromisoformat(fired[0]["endsAt"])
    assert said[-1] == "resolved (endsAt now)"


def test_a_failed_grafana_contact_point_still_waits_for_the_resolved_notification_then_fails() -> None:
    settings = target_of("staging").settings
    name = f"{settings.name_prefix}-team"
    result = {
        "receivers": [
            {
                "name": name,
                "grafana_managed_receiver_configs": [
                    {"name": name, "uid": "em1", "status": "failed", "error": "smtp: 535 authentication failed"}
                ],
            }
        ]
    }
    grafana_routes = {
        ("GET", "/api/alertmanager/grafana/config/api/v1/alerts"): (200, grafana_config(name)),
        ("POST", "/api/alertmanager/grafana/config/api/v1/receivers/test"): (207, result),
    }
    posted: list[list[dict[str, Any]]] = []
    said: list[str] = []
    active = {"state": "active", "silencedBy": [], "inhibitedBy": []}
    failed = pytest.raises(RuntimeError, match="535 authentication")
    with serving(fake_alertmanager(posted, active)) as url, fake_api(grafana_routes) as (grafana_url, _), failed:
        drill_against(url, settings, posted, said, api(grafana_url)).run("warning", timedelta(minutes=5))
    assert len(posted) == 2
    assert "firing notification: published and delivered on SNS warning, chat" in said
    assert said[-1] == "resolved notification: published and delivered on SNS warning, chat"
    assert any(line.startswith("should have received it: email (SNS warning): ") for line in said)
