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

from oncall.alertmanager_api import (
    AlertmanagerApi,
    OnCallError,
    alerts_table,
    checked_url,
    narrows,
    parse_duration,
    parse_matchers,
    silence_matchers,
)
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
        ('alertname=~".*"', "silences \\(nearly\\) every alert"),
        ('service=~"("', "not a regular expression Alertmanager accepts"),
    ],
)
def test_a_bad_matcher_says_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(OnCallError, match=message):
        silence_matchers(text)


# Issue 28 finding 9: `..*` passed the old guard, which compared the text with ".*" and ".+".
MATCH_ALLS = [
    'alertname=~".*"',
    'alertname=~"..*"',
    'alertname=~".+"',
    'alertname=~".*.*"',
    'alertname=~"(.*)"',
    'alertname=~"(?:.+)"',
    'alertname=~"|x"',
    'alertname=~"x|"',
    'alertname=~"(|.+)"',
    'alertname=~".{0,}"',
    'alertname=~"[\\s\\S]*"',
    'alertname=~"(?s).+"',
    'alertname=~"\\PL*.*"',
    'service=""',
    'service=~""',
    'service!="api"',
    'service!~"api|web"',
    'service!~""',
    'alertname=~".+",severity!="info"',
]


@pytest.mark.parametrize("text", MATCH_ALLS)
def test_a_silence_that_names_nothing_is_refused_however_it_is_spelled(text: str) -> None:
    with pytest.raises(OnCallError, match="silences \\(nearly\\) every alert"):
        silence_matchers(text)
    # Only a silence must name something: a route's or an inhibition's matchers may be broad.
    assert parse_matchers(text)


@pytest.mark.parametrize(
    "text",
    [
        'service="api"',
        'service=~"api|web"',
        'alertname=~"Api.*"',
        'alertname=~".+",service="api"',  # one matcher that names something is enough
        'severity="critical",service!="api"',
        'service=~"a"',  # the shortest probe value, named exactly
    ],
)
def test_a_silence_that_names_something_is_accepted(text: str) -> None:
    assert silence_matchers(text) == parse_matchers(text)


def test_matchers_are_judged_as_alertmanager_anchors_them() -> None:
    # Unanchored, "a" would be found inside most values; Alertmanager matches ^(?:a)$.
    assert narrows({"name": "service", "value": "a", "isRegex": True, "isEqual": True})
    # A negative matcher never narrows: it matches the alerts without the label.
    assert not narrows({"name": "service", "value": "api", "isRegex": False, "isEqual": False})


def test_durations() -> None:
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("604800s") == timedelta(days=7)  # at the limit
    for bad in ("2 hours", "0m", "8d", "604801s", "h", "-1h", "7d1s"):
        with pytest.raises(OnCallError):
            parse_duration(bad)


@pytest.mark.parametrize("huge", ["9" * 30 + "d", "99999999999999999999d", "1" * 5000 + "s", "1h" * 20])
def test_a_huge_for_is_a_clear_error_not_a_crash(huge: str) -> None:
    with pytest.raises(OnCallError, match=r"FOR='.*at most 7d"):
        parse_duration(huge)


AMP_URL = "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-1/alertmanager"


def test_amps_https_endpoint_in_the_stacks_region_is_accepted() -> None:
    assert checked_url(AMP_URL, "ap-northeast-2") == AMP_URL
    fips = "https://aps-workspaces-fips.us-east-1.amazonaws.com/workspaces/ws-1/alertmanager"
    assert checked_url(fips, "us-east-1") == fips


@pytest.mark.parametrize(
    ("url", "local", "message"),
    [
        # Plain http, even to AMP's host: the signature would travel in clear.
        (AMP_URL.replace("https:", "http:"), False, "is not AMP's Alertmanager"),
        ("https://evil.example.com/workspaces/ws-1/alertmanager", False, "is not AMP's Alertmanager"),
        ("https://aps-workspaces.ap-northeast-2.amazonaws.com.evil.example/x", False, "is not AMP's Alertmanager"),
        ("https://aps-workspaces.ap-northeast-2.amazonaws.com:8443/x", False, "is not AMP's Alertmanager"),
        ("https://user:pw@aps-workspaces.ap-northeast-2.amazonaws.com/x", False, "no user or password"),
        ("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/alertmanager", False, "is in us-east-1"),
        ("http://127.0.0.1:9093", False, "LOCAL=1"),
        # The local flag is for loopback only.
        ("http://10.0.0.5:9093", True, "LOCAL=1 is for an Alertmanager on this machine"),
        ("http://localhost.evil.example:9093", True, "LOCAL=1 is for an Alertmanager on this machine"),
        ("file:///etc/passwd", True, "LOCAL=1 is for an Alertmanager on this machine"),
    ],
)
def test_a_url_that_is_not_amp_is_refused_before_anything_is_signed(url: str, local: bool, message: str) -> None:
    with pytest.raises(OnCallError, match=message):
        checked_url(url, "ap-northeast-2", local=local)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9093", "http://localhost:9093", "http://[::1]:9093"])
def test_a_loopback_alertmanager_is_accepted_with_the_local_flag(url: str) -> None:
    assert checked_url(url, "ap-northeast-2", local=True) == url


def test_a_local_alertmanager_gets_no_signature_of_the_callers_key(
    monkeypatch: pytest.MonkeyPatch, recorder: tuple[str, list[dict[str, Any]]]
) -> None:
    import oncall.__main__ as command

    url, seen = recorder

    def forbidden() -> None:
        raise AssertionError("read the caller's credentials for a local Alertmanager")

    monkeypatch.setattr(command, "credentials", forbidden)
    assert command.main(["alerts", "--stack", "dev", "--url", url, "--local"]) == 0
    assert "Credential=LOCAL-ALERTMANAGER/" in seen[0]["headers"]["Authorization"]


def test_the_command_refuses_a_match_all_before_it_reads_credentials_or_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import oncall.__main__ as command

    def forbidden(*args: object) -> None:
        raise AssertionError("looked up a URL or credentials")

    monkeypatch.setattr(command, "stack_url", forbidden)
    monkeypatch.setattr(command, "credentials", forbidden)
    assert command.main(["silence", "--stack", "acme/prod", "--match", 'alertname=~"..*"', "--for", "2h"]) == 2
    assert "silences (nearly) every alert" in capsys.readouterr().err
    assert command.main(["silence", "--stack", "prod", "--match", 'service="api"', "--for", "9" * 40 + "d"]) == 2
    assert "FOR=" in capsys.readouterr().err


def test_the_command_asks_pulumi_for_the_qualified_stack_and_reads_the_stack_file(
    monkeypatch: pytest.MonkeyPatch, recorder: tuple[str, list[dict[str, Any]]]
) -> None:
    import oncall.__main__ as command

    url, seen = recorder
    asked: list[str] = []

    def stack_url(stack: str) -> str:
        asked.append(stack)
        return AMP_URL

    monkeypatch.setattr(command, "stack_url", stack_url)
    monkeypatch.setattr(command, "credentials", lambda: Credentials("AKIDEXAMPLETESTONLY", "test-only-secret"))
    # The stack output is checked like URL= (here: AMP's URL, which the test does not call).
    monkeypatch.setattr(command, "AlertmanagerApi", lambda u, region, creds: api(url))
    assert command.main(["alerts", "--stack", "acme/prod"]) == 0
    assert asked == ["acme/prod"] and seen[0]["path"].endswith("/api/v2/alerts")


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


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_own_alertmanager_url_passes_the_check(stack: str) -> None:
    """What `make alerts` reads from `pulumi stack output amp_alertmanager_url` is accepted (planned URL)."""
    from infra.config.stackfile import load_stack_file
    from tests.conftest import plan_of

    url = plan_of(stack).outputs["amp_alertmanager_url"]
    region = load_stack_file(stack, fill_unset_secrets=False).region
    assert region is not None
    assert checked_url(url, region) == url
