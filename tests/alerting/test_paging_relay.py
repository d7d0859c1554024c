"""The PagerDuty relay's code (infra/paging/relay.py): events, what it refuses, what it logs and counts, its secret.

Contracts: PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue; routing_key, event_action
trigger|resolve, dedup_key; payload summary, source, severity required for a trigger). SNS's Lambda event
(Records[].EventSource "aws:sns", Sns.TopicArn/Subject/Message/MessageId: Lambda developer guide, "Using Lambda
with Amazon SNS"). CloudWatch's alarm notification JSON (AlarmName, AlarmArn, AWSAccountId, NewStateValue,
NewStateReason: CloudWatch user guide, "Using Amazon SNS to notify users" and the alarm state change message).
CloudWatch embedded metric format specification (_aws.CloudWatchMetrics[].Namespace/Dimensions/Metrics).
Secrets Manager GetSecretValue, exercised through botocore's Stubber, which validates the call against the
service model shipped with botocore. AMP's subjects are rendered by the real amtool from
infra/alerting/screener.tmpl, so a template change that breaks the trigger/resolve pairing fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from infra.paging import relay
from tests.alerting.test_alertmanager import LONG_NAME, alert, configs, render  # noqa: F401 (configs is a fixture)

KEY = "R0UT1NGKEY0000000000000000000000"
ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
CRITICAL = f"arn:aws:sns:{REGION}:{ACCOUNT}:screener-prod-alerts-critical"
PIPELINE = f"arn:aws:sns:{REGION}:{ACCOUNT}:screener-prod-alerts-pipeline"
WARNING = f"arn:aws:sns:{REGION}:{ACCOUNT}:screener-prod-alerts-warning"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:screener-prod/pagerduty-routing-key-AbCdEf"
ALARM_SCOPE = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment infra/components/paging.py gives the function (tests/alerting/test_paging.py checks it)."""
    monkeypatch.setenv(relay.ENV_SECRET_ARN, SECRET_ARN)
    monkeypatch.setenv(relay.ENV_AMP_TOPICS, CRITICAL)
    monkeypatch.setenv(relay.ENV_ALARM_TOPICS, PIPELINE)
    monkeypatch.setenv(relay.ENV_ALARM_ARN_PREFIX, f"{ALARM_SCOPE}:alarm:screener-prod-")
    monkeypatch.setenv(relay.ENV_FUNCTION_NAME, "screener-prod-pagerduty-relay")
    monkeypatch.setattr(relay, "_routing_key", None)
    yield


def alarm_message(name: str = "screener-prod-alerting-watchdog-silent", state: str = "ALARM", **changes: Any) -> str:
    message = {
        "AlarmName": name,
        "AlarmArn": f"{ALARM_SCOPE}:alarm:{name}",
        "AWSAccountId": ACCOUNT,
        "NewStateValue": state,
        "NewStateReason": "no messages",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Region": "Asia Pacific (Seoul)",
    }
    return json.dumps({**message, **changes})


def record(topic: str, subject: str | None, message: str, message_id: str = "m-1") -> dict[str, Any]:
    return {
        "EventSource": "aws:sns",
        "Sns": {"TopicArn": topic, "Subject": subject, "Message": message, "MessageId": message_id},
    }


def secrets_client_answering(value: str) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name=REGION, aws_access_key_id="AKIDTESTONLY", aws_secret_access_key="test-only"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "get_secret_value",
        {"ARN": SECRET_ARN, "Name": "screener-prod/pagerduty-routing-key", "SecretString": value},
        expected_params={"SecretId": SECRET_ARN},
    )
    stubber.activate()
    return client, stubber


# --- events ------------------------------------------------------------------------------------------------------


def test_a_firing_and_its_resolve_share_the_dedup_key(configs: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    firing = render(
        "prod", configs, "screener.subject", [alert("ApiHighErrorRate"), alert("ApiHighErrorRate")], tmp_path
    )
    resolved = render("prod", configs, "screener.subject", [alert("ApiHighErrorRate", "resolved")], tmp_path)
    assert firing.startswith("[FIRING:2] ") and resolved.startswith("[RESOLVED] ")
    trigger = relay.event_for(CRITICAL, firing, "body", KEY)
    resolve = relay.event_for(CRITICAL, resolved, "body", KEY)
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "amp:CRITICAL ApiHighErrorRate api (prod)"
    assert trigger["routing_key"] == KEY
    assert trigger["payload"] == {
        "summary": "CRITICAL ApiHighErrorRate api (prod)",
        "source": "amp-alertmanager",
        "severity": "critical",
        "custom_details": {"message": "body"},
    }
    assert "payload" not in resolve


def test_a_long_groups_trigger_and_resolve_still_pair_up(configs: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    # The template cuts the subject at 96 characters: "[FIRING:12] " and "[RESOLVED] " leave
    # different lengths of the group.
    firing = render("prod", configs, "screener.subject", [alert(LONG_NAME)] * 12, tmp_path)
    resolved = render("prod", configs, "screener.subject", [alert(LONG_NAME, "resolved")], tmp_path)
    assert firing.endswith("...") and resolved.endswith("...") and firing[12:] != resolved[11:]
    trigger, resolve = relay.event_for(CRITICAL, firing, "x", KEY), relay.event_for(CRITICAL, resolved, "x", KEY)
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert (
        trigger["dedup_key"] != relay.event_for(CRITICAL, "[FIRING:1] CRITICAL Other api (prod)", "x", KEY)["dedup_key"]
    )


def test_this_stacks_alarms_trigger_and_resolve_by_alarm_name() -> None:
    trigger = relay.event_for(PIPELINE, 'ALARM: "screener-prod-alerting-watchdog-silent"', alarm_message(), KEY)
    ok = relay.event_for(PIPELINE, "OK: ...", alarm_message(state="OK"), KEY)
    assert (trigger["event_action"], ok["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == ok["dedup_key"] == "cloudwatch:screener-prod-alerting-watchdog-silent"
    assert trigger["payload"]["summary"] == "screener-prod-alerting-watchdog-silent: no messages"


# --- what it refuses: a forged resolve must not close an incident --------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "subject", "message", "reason"),
    [
        # AMP's resolve shape on the alarms' topic: only CloudWatch publishes there.
        (PIPELINE, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "resolved", "not-json"),
        # An alarm's OK on AMP's topic: only AMP publishes there, and only subjects of its template.
        (CRITICAL, "OK: x", alarm_message(state="OK"), "not-an-amp-subject"),
        # A topic the relay does not page from (the warning topic takes alarms too).
        (WARNING, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "resolved", "unknown-topic"),
        # Alarms of another stack, another account, or with an ARN that does not name the alarm.
        (PIPELINE, "OK", alarm_message("screener-staging-alerting-watchdog-silent", "OK"), "alarm-of-another-stack"),
        (PIPELINE, "OK", alarm_message(state="OK", AWSAccountId="210987654321"), "alarm-of-another-stack"),
        (
            PIPELINE,
            "OK",
            alarm_message(state="OK", AlarmArn=f"{ALARM_SCOPE}:alarm:screener-prod-other"),
            "alarm-of-another-stack",
        ),
        (PIPELINE, "x", alarm_message(state="INSUFFICIENT_DATA"), "alarm-state-not-paged"),
        (PIPELINE, "x", json.dumps({"AlarmName": "screener-prod-x", "NewStateValue": "OK"}), "not-an-alarm"),
        (CRITICAL, "[RESOLVED] ", "x", "not-an-amp-subject"),
        (CRITICAL, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "  ", "empty-message"),
        (CRITICAL, "[RESOLVED] " + "x" * 90, "x", "not-an-amp-subject"),  # 101 characters: SNS refuses over 100
        (CRITICAL, "Subscription confirmed", "hello", "not-an-amp-subject"),
    ],
)
def test_a_message_of_the_wrong_topic_or_shape_is_dropped_with_its_reason(
    topic: str, subject: str, message: str, reason: str
) -> None:
    with pytest.raises(relay.DroppedError) as dropped:
        relay.event_for(topic, subject, message, KEY)
    assert str(dropped.value) == reason


def test_the_subject_at_snss_limit_is_still_an_alert() -> None:
    subject = "[FIRING:1] " + "x" * 89
    assert len(subject) == relay.MAX_SUBJECT
    assert relay.event_for(CRITICAL, subject, "x", KEY)["event_action"] == "trigger"


# --- the handler: secret, delivery, drops -------------------------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, request: Any, timeout: float) -> Any:
        if self.fail:
            raise OSError("events.pagerduty.com unreachable")
        self.sent.append((request.full_url, json.loads(request.data)))

        class Response:
            def __enter__(self) -> Any:
                return self

            def __exit__(self, *args: object) -> None:
                pass

            def read(self) -> bytes:
                return b'{"status":"success"}'

        return Response()


def test_the_routing_key_is_read_from_secrets_manager_once_per_execution_environment() -> None:
    client, stubber = secrets_client_answering(KEY)
    assert relay.routing_key(client) == KEY
    # A second call makes no request: the Stubber would raise on a call it has no answer for.
    assert relay.routing_key(client) == KEY
    stubber.assert_no_pending_responses()


def test_the_handler_posts_alerts_and_logs_and_counts_each_dropped_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = secrets_client_answering(KEY)
    relay.routing_key(client)
    recorder = Recorder()
    monkeypatch.setattr("urllib.request.urlopen", recorder)
    records = [
        record(CRITICAL, "[FIRING:1] CRITICAL PostgresDown postgres (prod)", "down"),
        record(PIPELINE, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "forged", message_id="m-forged"),
    ]
    assert relay.handler({"Records": records}, None) == {"sent": 1, "dropped": 1}
    ((url, event),) = recorder.sent
    assert url == "https://events.pagerduty.com/v2/enqueue"
    assert event["routing_key"] == KEY and event["dedup_key"] == "amp:CRITICAL PostgresDown postgres (prod)"
    (line,) = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert {k: logged[k] for k in ("event", "reason", "topicArn", "messageId", "subject")} == {
        "event": "dropped",
        "reason": "not-json",
        "topicArn": PIPELINE,
        "messageId": "m-forged",
        "subject": "[RESOLVED] CRITICAL PostgresDown postgres (prod)",
    }
    # The same line is a CloudWatch metric (embedded metric format): DroppedMessages=1 by FunctionName.
    (directive,) = logged["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "Screener/PagingRelay",
        "Dimensions": [["FunctionName"]],
        "Metrics": [{"Name": "DroppedMessages", "Unit": "Count"}],
    }
    assert logged["DroppedMessages"] == 1 and logged["FunctionName"] == "screener-prod-pagerduty-relay"
    assert isinstance(logged["_aws"]["Timestamp"], int)
    assert KEY not in line


def test_a_dropped_message_never_reads_the_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name=REGION, aws_access_key_id="AKIDTESTONLY", aws_secret_access_key="test-only"
    )
    stubber = Stubber(client)
    stubber.activate()  # no answer queued: any call raises
    monkeypatch.setattr(botocore.session.Session, "create_client", lambda *args, **kwargs: client)
    forged = record(PIPELINE, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "forged")
    assert relay.handler({"Records": [forged]}, None) == {"sent": 0, "dropped": 1}
    assert json.loads(capsys.readouterr().out)["reason"] == "not-json"


def test_a_record_that_is_not_from_sns_is_dropped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(relay, "_routing_key", KEY)
    monkeypatch.setattr("urllib.request.urlopen", Recorder(fail=True))
    forged = {**record(CRITICAL, "[RESOLVED] CRITICAL PostgresDown postgres (prod)", "x"), "EventSource": "aws:sqs"}
    assert relay.handler({"Records": [forged]}, None) == {"sent": 0, "dropped": 1}
    assert json.loads(capsys.readouterr().out)["reason"] == "not-an-sns-record"


def test_a_delivery_failure_raises_so_lambda_retries_then_parks_the_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "_routing_key", KEY)
    monkeypatch.setattr("urllib.request.urlopen", Recorder(fail=True))
    with pytest.raises(OSError, match="unreachable"):
        relay.handler({"Records": [record(CRITICAL, "[FIRING:1] CRITICAL X api (prod)", "x")]}, None)
