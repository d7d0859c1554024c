"""Delivery checks against botocore's Stubber (`sns` and `cloudwatch` models): unconfirmed and missing
subscriptions, the pipeline's own alarms, alarms stuck without data; the alarm names are pinned to the plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import plan_of
from tests.verify.support import NOW, stubbed, target_of
from verify.delivery_checks import (
    check_insufficient_data,
    check_pipeline_alarms,
    check_subscriptions,
    pipeline_alarm_names,
)
from verify.report import Status
from verify.target import Target


def subscription(arn: str, email: str, pending: bool = False) -> dict[str, Any]:
    return {
        "SubscriptionArn": "PendingConfirmation" if pending else f"{arn}:0f1e2d3c-{abs(hash(email)) % 10000:04d}",
        "Owner": "123456789012",
        "Protocol": "email",
        "Endpoint": email,
        "TopicArn": arn,
    }


def queue_topics(stubber: Any, target: Target, pending: str = "", drop: str = "") -> None:
    """One page per topic, in the check's (sorted) order; every expected address subscribed."""
    spec = target.settings.notifications
    emails = {"critical": [*spec.emails, *spec.paging_emails], "warning": list(spec.emails)}
    emails["pipeline"] = emails["critical"]
    for audience, arn in sorted(target.output("alert_topic_arns").items()):
        subscriptions = [
            subscription(arn, email, pending=email == pending and audience == "critical")
            for email in emails.get(audience, [])
            if not (email == drop and audience == "warning")
        ]
        stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": subscriptions}, {"TopicArn": arn})


def test_a_pending_subscription_fails_naming_the_address() -> None:
    target = target_of("prod")
    address = target.settings.notifications.emails[0]
    with stubbed("sns") as (sns, stubber):
        queue_topics(stubber, target, pending=address)
        result = check_subscriptions(sns, target)
    assert result.status is Status.FAIL
    assert result.evidence == f"{address} on critical is PendingConfirmation"


def test_an_unsubscribed_address_fails_and_a_complete_list_passes() -> None:
    target = target_of("staging")
    address = target.settings.notifications.emails[-1]
    with stubbed("sns") as (sns, stubber):
        queue_topics(stubber, target, drop=address)
        queue_topics(stubber, target)
        missing = check_subscriptions(sns, target)
        complete = check_subscriptions(sns, target)
    assert (missing.status, missing.evidence) == (Status.FAIL, f"{address} on warning is not subscribed")
    assert complete.status is Status.PASS


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_pipeline_alarm_names_are_the_planned_alarms(stack: str) -> None:
    planned = {
        r.inputs.get("name") for r in plan_of(stack).resources if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
    }
    assert set(pipeline_alarm_names(target_of(stack)).values()) <= planned


def alarm(name: str, state: str, updated_minutes_ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "StateValue": state,
        "StateReason": f"Threshold Crossed: {state}",
        "StateUpdatedTimestamp": NOW - timedelta(minutes=updated_minutes_ago),
        "EvaluationPeriods": 1,
        **extra,
    }


def test_a_pipeline_alarm_not_ok_fails_by_name() -> None:
    target = target_of("staging")
    names = pipeline_alarm_names(target)
    watchdog = names["Watchdog silent"]
    answer = [alarm(name, "ALARM" if name == watchdog else "OK", 30, Period=900) for name in names.values()]
    with stubbed("cloudwatch") as (cloudwatch, stubber):
        stubber.add_response("describe_alarms", {"MetricAlarms": answer}, {"AlarmNames": list(names.values())})
        stubber.add_response(
            "describe_alarms",
            {"MetricAlarms": [a for a in answer if a["AlarmName"] != watchdog] + [alarm(watchdog, "OK", 1)]},
            {"AlarmNames": list(names.values())},
        )
        firing = check_pipeline_alarms(cloudwatch, target)
        healthy = check_pipeline_alarms(cloudwatch, target)
    assert firing.status is Status.FAIL
    assert firing.evidence == f"Watchdog silent alarm {watchdog} is ALARM: Threshold Crossed: ALARM"
    assert healthy.status is Status.PASS


@pytest.mark.parametrize(("minutes", "expected"), [(15, Status.PASS), (15 + 1 / 60, Status.FAIL)])
def test_insufficient_data_fails_one_second_past_the_alarms_window(minutes: float, expected: Status) -> None:
    target = target_of("staging")
    # A metric-math alarm: its period is its query's (5 min), three evaluation periods: a 15-minute window.
    stuck = alarm(
        "screener-staging-logs-api-error-burst",
        "INSUFFICIENT_DATA",
        minutes,
        EvaluationPeriods=3,
        Metrics=[{"Id": "errors", "MetricStat": {"Metric": {"MetricName": "x"}, "Period": 300, "Stat": "Sum"}}],
    )
    with stubbed("cloudwatch") as (cloudwatch, stubber):
        stubber.add_response(
            "describe_alarms",
            {"MetricAlarms": [stuck], "NextToken": "more"},
            {"AlarmNamePrefix": "screener-staging-", "StateValue": "INSUFFICIENT_DATA"},
        )
        stubber.add_response(
            "describe_alarms",
            {"MetricAlarms": []},
            {"AlarmNamePrefix": "screener-staging-", "StateValue": "INSUFFICIENT_DATA", "NextToken": "more"},
        )
        result = check_insufficient_data(cloudwatch, target, NOW)
    assert result.status is expected
    if expected is Status.FAIL:
        assert result.evidence.startswith(
            "INSUFFICIENT_DATA past the alarm's window: screener-staging-logs-api-error-burst"
        )
