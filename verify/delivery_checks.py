"""Delivery: SNS subscriptions confirmed, the pipeline's own alarms OK, no alarm stuck without data.

Contract: botocore's `sns` model (ListSubscriptionsByTopic -> Subscriptions[].{SubscriptionArn, Protocol,
Endpoint}, paged by NextToken; an unconfirmed subscription's SubscriptionArn is the literal
"PendingConfirmation") and `cloudwatch` model (DescribeAlarms by AlarmNames or AlarmNamePrefix + StateValue
-> MetricAlarms[].{AlarmName, StateValue, StateReason, StateUpdatedTimestamp, Period, EvaluationPeriods,
Metrics[].MetricStat.Period | Metrics[].Period}, paged by NextToken).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from verify.report import Result, failed, passed
from verify.target import Target

PENDING = "PendingConfirmation"
# When a metric-math alarm names no period of its own (CloudWatch's smallest standard one).
DEFAULT_PERIOD_SECONDS = 60


def expected_emails(target: Target) -> dict[str, set[str]]:
    """Audience -> the addresses subscribed to it (infra/components/notifications.py: emails on critical,
    warning and pipeline; paging emails on critical and pipeline)."""
    spec = target.settings.notifications
    everyone = set(spec.emails) | set(spec.paging_emails)
    return {"critical": everyone, "warning": set(spec.emails), "pipeline": everyone}


def check_subscriptions(sns: Any, target: Target) -> Result:
    check = "delivery.subscriptions"
    topics: dict[str, str] = target.output("alert_topic_arns") or {}
    if not topics:
        return failed(check, "no alert_topic_arns output", f"run `make up STACK={target.stack}`")
    pending, missing, confirmed = [], [], 0
    for audience, arn in sorted(topics.items()):
        subscriptions: list[dict[str, Any]] = []
        token = None
        while True:
            page = sns.list_subscriptions_by_topic(TopicArn=arn, **({"NextToken": token} if token else {}))
            subscriptions += page["Subscriptions"]
            token = page.get("NextToken")
            if not token:
                break
        for subscription in subscriptions:
            if subscription["SubscriptionArn"] == PENDING:
                pending.append(f"{subscription['Endpoint']} on {audience}")
            else:
                confirmed += 1
        emails = {s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"}
        missing += [f"{email} on {audience}" for email in sorted(expected_emails(target).get(audience, set()) - emails)]
    problems = [*(f"{p} is PendingConfirmation" for p in pending), *(f"{m} is not subscribed" for m in missing)]
    if problems:
        return failed(
            check,
            "; ".join(problems),
            "each address must click the link in 'AWS Notification - Subscription Confirmation' (search the inbox "
            "and spam; the link expires after 3 days, then `make up` sends a new one)",
        )
    return passed(check, f"{confirmed} subscriptions confirmed on {len(topics)} topics")


def pipeline_alarm_names(target: Target) -> dict[str, str]:
    """The alarms that watch the alerting path itself (names as infra/components/notifications.py and
    grafana_heartbeat.py declare them; tests/verify pins them against the plan)."""
    prefix = target.name_prefix
    heartbeat_arn = str(target.output("grafana_heartbeat_alarm_arn") or f"alarm:{prefix}-grafana-heartbeat-silent")
    return {
        "Watchdog silent": f"{prefix}-alerting-watchdog-silent",
        "Grafana heartbeat": heartbeat_arn.rsplit("alarm:", 1)[-1],
        "notification failures": f"{prefix}-amp-notifications-failed",
    }


def check_pipeline_alarms(cloudwatch: Any, target: Target) -> Result:
    check = "delivery.pipeline-alarms"
    names = pipeline_alarm_names(target)
    found = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]}
    problems = []
    for role, name in names.items():
        alarm = found.get(name)
        if alarm is None:
            problems.append(f"{role} alarm {name} does not exist")
        elif alarm["StateValue"] != "OK":
            problems.append(f"{role} alarm {name} is {alarm['StateValue']}: {alarm.get('StateReason', '')}")
    if problems:
        return failed(
            check,
            "; ".join(problems),
            "Watchdog silent: AMP's rules or Alertmanager do not reach SNS (see the workspace's logs); heartbeat: "
            "Grafana's alerting cannot call its webhook; notification failures: SNS refused AMP (topic policy, "
            "KMS key). A new stack's alarms need one period of data (15 min) before OK.",
        )
    return passed(check, ", ".join(f"{name} OK" for name in names.values()))


def alarm_window_seconds(alarm: dict[str, Any]) -> int:
    """How long an alarm takes to judge: its period (or its metric query's) times its evaluation periods."""
    period = alarm.get("Period") or max(
        [m.get("Period") or m.get("MetricStat", {}).get("Period") or 0 for m in alarm.get("Metrics", [])] or [0]
    )
    return int(period or DEFAULT_PERIOD_SECONDS) * int(alarm.get("EvaluationPeriods") or 1)


def check_insufficient_data(cloudwatch: Any, target: Target, now: datetime) -> Result:
    check = "delivery.alarms-with-data"
    stuck = []
    token = None
    while True:
        page = cloudwatch.describe_alarms(
            AlarmNamePrefix=f"{target.name_prefix}-",
            StateValue="INSUFFICIENT_DATA",
            **({"NextToken": token} if token else {}),
        )
        for alarm in page["MetricAlarms"]:
            age = (now - alarm["StateUpdatedTimestamp"]).total_seconds()
            window = alarm_window_seconds(alarm)
            if age > window:
                stuck.append(f"{alarm['AlarmName']} for {age / 60:.0f} min (window {window / 60:.0f} min)")
        token = page.get("NextToken")
        if not token:
            break
    if stuck:
        return failed(
            check,
            f"INSUFFICIENT_DATA past the alarm's window: {'; '.join(stuck)}",
            "the alarm's metric does not exist (a wrong dimension, or nothing publishes it): it can never fire; "
            "compare the alarm's metric with what the service publishes in the CloudWatch console",
        )
    return passed(check, f"no alarm named {target.name_prefix}-* is stuck in INSUFFICIENT_DATA")
