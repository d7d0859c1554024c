"""The on-call tools' request: AMP's Alertmanager path, signed with SigV4 for service `aps`, and their input checks.

Contract: AMP user guide, AMP-APIReference-PutAlertManagerSilences (POST
/workspaces/<id>/alertmanager/api/v2/silences with matchers {name, value,
isRegex, isEqual}, startsAt, endsAt, createdBy, comment) and AWS SigV4
(credential scope <date>/<region>/<service>/aws4_request; AMP's service
name is `aps`). A recording server on loopback stands in for AMP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from botocore.credentials import Credentials

from oncall.alertmanager_api import AlertmanagerApi, OnCallError, alerts_table, parse_duration, parse_matchers
from tests.http_stub import answer, serving

WORKSPACE_PATH = "/workspaces/ws-12345678-abcd/alertmanager"
NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"path": self.path, "headers": dict(self.headers.items()), "body": json.loads(body)})
            answer(self, {"silenceID": "0f3c-silence"})

        def do_GET(self) -> None:
            seen.append({"path": self.path, "headers": dict(self.headers.items())})
            answer(self, [])

    with serving(Handler) as url:
        yield f"{url}{WORKSPACE_PATH}", seen


def api(url: str) -> AlertmanagerApi:
    return AlertmanagerApi(url, "ap-northeast-2", Credentials("AKIDEXAMPLETESTONLY", "test-only-secret"))


def test_a_silence_is_posted_to_amps_silences_path_signed_for_aps(recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    silence_id = api(url).silence(parse_matchers('service="api"'), timedelta(hours=2), "oncall@host", "deploy", NOW)
    assert silence_id == "0f3c-silence"
    (request,) = seen
    assert request["path"] == f"{WORKSPACE_PATH}/api/v2/silences"
    authorization = request["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLETESTONLY/")
    assert "/ap-northeast-2/aps/aws4_request, SignedHeaders=" in authorization
    assert "host" in authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert request["headers"]["X-Amz-Date"].endswith("Z")
    assert request["body"] == {
        "matchers": [{"name": "service", "value": "api", "isRegex": False, "isEqual": True}],
        "startsAt": "2026-11-29T20:00:00+00:00",
        "endsAt": "2026-11-29T22:00:00+00:00",
        "createdBy": "oncall@host",
        "comment": "deploy",
    }


def test_listing_alerts_gets_the_alerts_path_signed(recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    assert api(url).alerts() == []
    assert seen[0]["path"] == f"{WORKSPACE_PATH}/api/v2/alerts"
    assert "/aps/aws4_request" in seen[0]["headers"]["Authorization"]


def test_matchers_read_every_operator_and_escaped_quotes() -> None:
    assert parse_matchers(
        '{service="api", severity=~"warning|critical",env!="dev",alertname!~"Watch.*",x="a\\"b"}'
    ) == [
        {"name": "service", "value": "api", "isRegex": False, "isEqual": True},
        {"name": "severity", "value": "warning|critical", "isRegex": True, "isEqual": True},
        {"name": "env", "value": "dev", "isRegex": False, "isEqual": False},
        {"name": "alertname", "value": "Watch.*", "isRegex": True, "isEqual": False},
        {"name": "x", "value": 'a"b', "isRegex": False, "isEqual": True},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service=api", "cannot read the matcher at 'service=api'"),
        ("", "no matcher"),
        ('alertname=~".*"', "match every alert"),
    ],
)
def test_a_bad_matcher_says_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(OnCallError, match=message):
        parse_matchers(text)


def test_durations() -> None:
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("7d") == timedelta(days=7)
    for bad in ("2 hours", "0m", "8d", "h", "-1h"):
        with pytest.raises(OnCallError):
            parse_duration(bad)


def test_the_table_lists_critical_first_with_the_silence() -> None:
    alerts = [
        {
            "labels": {"alertname": "RedisEvictions", "severity": "warning", "service": "redis"},
            "status": {"state": "active", "silencedBy": []},
            "startsAt": "2026-11-29T19:58:01.5Z",
        },
        {
            "labels": {"alertname": "PostgresDown", "severity": "critical", "service": "postgres"},
            "status": {"state": "suppressed", "silencedBy": ["s-1"]},
            "startsAt": "2026-11-29T19:50:00Z",
        },
    ]
    assert alerts_table(alerts) == [
        "STATE       SEVERITY  ALERT           SERVICE   SINCE (UTC)       SILENCED BY",
        "suppressed  critical  PostgresDown    postgres  2026-11-29 19:50  s-1",
        "active      warning   RedisEvictions  redis     2026-11-29 19:58  -",
    ]
