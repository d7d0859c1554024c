"""Relay from the paging SNS topics to PagerDuty's Events API v2 (runs as an AWS Lambda function).

AMP's Alertmanager can only publish to SNS, and PagerDuty's SNS-facing
integration (Amazon CloudWatch, HTTPS subscription to
https://events.pagerduty.com/integration/<key>/enqueue) only understands
CloudWatch alarm messages: it drops anything else, which would silently drop
every AMP alert. So, as AWS describes for AMP and PagerDuty ("Using Amazon
Managed Service for Prometheus Alert Manager to receive alerts with
PagerDuty", AWS Cloud Operations blog), a small function subscribed to the
topics turns each message into an Events API v2 event:
- AMP's messages, on the critical topic only: the subject is
  `[FIRING:n] SEVERITY alert service (env)` or `[RESOLVED] ...`
  (infra/alerting/screener.tmpl); the rest of the subject after the bracket is
  the group, hence the dedup key, so the resolve closes the incident the
  trigger opened.
- CloudWatch alarms of this stack, on the pipeline topic only (JSON with
  AlarmName, AlarmArn, AWSAccountId and NewStateValue): ALARM triggers, OK
  resolves, keyed by the alarm name.

The dedup key is predictable, so a forged `[RESOLVED]` or `OK` message would
close a live incident. The topics admit only AMP's workspace and this stack's
alarms as publishers (infra/components/notifications.py, issue 28 finding 7);
here each message must also come from the topic its kind is published to and
have that kind's exact shape (an alarm of this stack, of this account).
Anything else is dropped with a structured log line that is also a CloudWatch
metric (embedded metric format: `DroppedMessages` in METRIC_NAMESPACE), which
an alarm watches.

The routing key is not in the environment (readable with
lambda:GetFunctionConfiguration): the environment names a Secrets Manager
secret, read once per execution environment (cold start) with the function's
role, which may read exactly that secret. A failed delivery raises: Lambda
retries the asynchronous invocation, then sends it to the on-failure
destination (an SQS queue, alarmed).

Standard library and botocore only: the Lambda Python runtimes include the AWS
SDK for Python (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html),
so the function has no dependencies to package.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from typing import Any

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SOURCE = "amp-alertmanager"
_AMP_SUBJECT = re.compile(r"^\[(FIRING(?::\d+)?|RESOLVED)\] (\S.*)$")
# Events API v2 caps the summary at 1024 characters.
MAX_SUMMARY = 1024
# SNS caps a subject at 100 characters; the template cuts at 96 (infra/alerting/screener.tmpl).
MAX_SUBJECT = 100
# The template cuts a subject at 96 characters and appends "..." (SNS refuses 100). Behind a
# "[FIRING:9999] " prefix (14 characters, the longest) at least 82 characters of the group survive,
# so the first 82 are the same in a long group's trigger and resolve, whatever the count.
DEDUP_GROUP_CHARS = 82
# CloudWatch alarm states that page (ALARM) or resolve (OK); INSUFFICIENT_DATA does neither.
_ALARM_ACTIONS = {"ALARM": "trigger", "OK": "resolve"}

# The function's environment (infra/components/paging.py sets each one).
ENV_SECRET_ARN = "PAGERDUTY_ROUTING_KEY_SECRET_ARN"
ENV_AMP_TOPICS = "AMP_TOPIC_ARNS"  # comma-separated: topics only AMP's Alertmanager publishes to
ENV_ALARM_TOPICS = "ALARM_TOPIC_ARNS"  # comma-separated: topics only this stack's alarms publish to
ENV_ALARM_ARN_PREFIX = "ALARM_ARN_PREFIX"  # arn:<partition>:cloudwatch:<region>:<account>:alarm:<prefix>-
ENV_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda

METRIC_NAMESPACE = "Screener/PagingRelay"
DROPPED_METRIC = "DroppedMessages"

_routing_key: str | None = None


def routing_key(client: Any = None) -> str:
    """The Events API v2 routing key, read from Secrets Manager once per execution environment."""
    global _routing_key
    if _routing_key is None:
        if client is None:
            import botocore.session

            client = botocore.session.get_session().create_client("secretsmanager")
        answer = client.get_secret_value(SecretId=os.environ[ENV_SECRET_ARN])
        _routing_key = str(answer["SecretString"])
    return _routing_key


class DroppedError(Exception):
    """A message that is not an alert this relay may forward; the text is the reason."""


def _arns(variable: str) -> set[str]:
    return {arn for arn in os.environ.get(variable, "").split(",") if arn}


def event_for(topic_arn: str, subject: str | None, message: str, routing_key: str) -> dict[str, Any]:
    """The Events API v2 event for one SNS message; raises DroppedError for a message that is not a valid alert."""
    if topic_arn in _arns(ENV_AMP_TOPICS):
        return _amp_event(subject, message, routing_key)
    if topic_arn in _arns(ENV_ALARM_TOPICS):
        return _alarm_event(message, routing_key)
    raise DroppedError("unknown-topic")


def _amp_event(subject: str | None, message: str, routing_key: str) -> dict[str, Any]:
    match = _AMP_SUBJECT.match(subject or "")
    if match is None or len(subject or "") > MAX_SUBJECT:
        raise DroppedError("not-an-amp-subject")
    if not message.strip():
        raise DroppedError("empty-message")
    state, group = match.groups()
    action = "resolve" if state == "RESOLVED" else "trigger"
    key = group.removesuffix("...")[:DEDUP_GROUP_CHARS]
    return _event(routing_key, action, f"amp:{key}", group, message)


def _alarm_event(message: str, routing_key: str) -> dict[str, Any]:
    try:
        alarm = json.loads(message)
    except ValueError:
        raise DroppedError("not-json") from None
    if not isinstance(alarm, dict) or not all(
        isinstance(alarm.get(key), str) for key in ("AlarmName", "AlarmArn", "AWSAccountId", "NewStateValue")
    ):
        raise DroppedError("not-an-alarm")
    # arn:<partition>:cloudwatch:<region>:<account>:alarm:<name prefix>
    scope, name_prefix = os.environ[ENV_ALARM_ARN_PREFIX].rsplit(":alarm:", 1)
    if (
        not alarm["AlarmName"].startswith(name_prefix)
        or alarm["AlarmArn"] != f"{scope}:alarm:{alarm['AlarmName']}"
        or alarm["AWSAccountId"] != scope.split(":")[4]
    ):
        raise DroppedError("alarm-of-another-stack")
    action = _ALARM_ACTIONS.get(alarm["NewStateValue"])
    if action is None:
        raise DroppedError("alarm-state-not-paged")
    summary = f"{alarm['AlarmName']}: {alarm.get('NewStateReason', '')}".strip()
    return _event(routing_key, action, f"cloudwatch:{alarm['AlarmName']}", summary, alarm)


def _event(routing_key: str, action: str, dedup_key: str, summary: str, details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key}
    if action == "trigger":
        event["payload"] = {
            "summary": summary[:MAX_SUMMARY],
            "source": SOURCE,
            "severity": "critical",
            "custom_details": {"message": details},
        }
    return event


def dropped_log_line(reason: str, topic_arn: str, subject: str | None, message_id: str) -> str:
    """One JSON log line saying what was dropped and why, in CloudWatch's embedded metric format, so that
    Lambda's log delivery also counts it as `DroppedMessages` (dimension FunctionName): https://docs.aws.
    amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html."""
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": METRIC_NAMESPACE,
                        "Dimensions": [["FunctionName"]],
                        "Metrics": [{"Name": DROPPED_METRIC, "Unit": "Count"}],
                    }
                ],
            },
            "FunctionName": os.environ.get(ENV_FUNCTION_NAME, "pagerduty-relay"),
            DROPPED_METRIC: 1,
            "level": "WARNING",
            "event": "dropped",
            "reason": reason,
            "topicArn": topic_arn,
            # The subject only (at most 100 characters, no secret): enough to find the message.
            "subject": (subject or "")[:MAX_SUBJECT],
            "messageId": message_id,
        },
        sort_keys=True,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda entry point: every SNS record becomes one PagerDuty event, or one logged and counted drop."""
    sent = dropped = 0
    for record in event.get("Records", []):
        sns = record.get("Sns") or {}
        topic_arn, subject = str(sns.get("TopicArn", "")), sns.get("Subject")
        try:
            if record.get("EventSource") != "aws:sns":
                raise DroppedError("not-an-sns-record")
            # The key is read only for a message that is an alert: what is dropped never touches the secret.
            pager_event = event_for(topic_arn, subject, str(sns.get("Message", "")), "")
        except DroppedError as reason:
            print(dropped_log_line(str(reason), topic_arn, subject, str(sns.get("MessageId", ""))), file=sys.stdout)
            dropped += 1
            continue
        pager_event["routing_key"] = routing_key()
        request = urllib.request.Request(
            EVENTS_URL,
            data=json.dumps(pager_event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # A failure raises: Lambda retries the asynchronous invocation (twice), then sends the event to the
        # function's on-failure destination (the relay's SQS queue), whose depth is alarmed.
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        sent += 1
    return {"sent": sent, "dropped": dropped}
