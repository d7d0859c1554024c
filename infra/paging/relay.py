"""Relay from the critical SNS topic to PagerDuty's Events API v2 (runs as an AWS Lambda function).

AMP's Alertmanager can only publish to SNS, and PagerDuty's SNS-facing
integration (Amazon CloudWatch, HTTPS subscription to
https://events.pagerduty.com/integration/<key>/enqueue) only understands
CloudWatch alarm messages: it drops anything else, which would silently drop
every AMP alert. So, as AWS describes for AMP and PagerDuty ("Using Amazon
Managed Service for Prometheus Alert Manager to receive alerts with
PagerDuty", AWS Cloud Operations blog), a small function subscribed to the
topic turns each message into an Events API v2 event:
- AMP's messages: the subject is `[FIRING:n] SEVERITY alert service (env)` or
  `[RESOLVED] ...` (infra/alerting/screener.tmpl); the rest of the subject
  after the bracket is the group, hence the dedup key, so the resolve closes
  the incident the trigger opened.
- CloudWatch alarms on AMP itself (JSON with AlarmName and NewStateValue):
  ALARM triggers, OK resolves, keyed by the alarm name.
Standard library only: the function has no dependencies to package.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from typing import Any

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SOURCE = "amp-alertmanager"
_AMP_SUBJECT = re.compile(r"^\[(FIRING(?::\d+)?|RESOLVED)\] (.+)$")
# Events API v2 caps the summary at 1024 characters.
MAX_SUMMARY = 1024
# The template cuts a subject at 96 characters and appends "..." (SNS refuses 100). Behind a
# "[FIRING:9999] " prefix (14 characters, the longest) at least 82 characters of the group survive,
# so the first 82 are the same in a long group's trigger and resolve, whatever the count.
DEDUP_GROUP_CHARS = 82


def event_for(subject: str | None, message: str, routing_key: str) -> dict[str, Any] | None:
    """The Events API v2 event for one SNS message, or None for a message that is not an alert."""
    match = _AMP_SUBJECT.match(subject or "")
    if match:
        state, group = match.groups()
        action = "resolve" if state == "RESOLVED" else "trigger"
        key = group.removesuffix("...")[:DEDUP_GROUP_CHARS]
        return _event(routing_key, action, f"amp:{key}", group, message)
    try:
        alarm = json.loads(message)
    except ValueError:
        return None
    if isinstance(alarm, dict) and "AlarmName" in alarm and alarm.get("NewStateValue") in ("ALARM", "OK"):
        action = "trigger" if alarm["NewStateValue"] == "ALARM" else "resolve"
        summary = f"{alarm['AlarmName']}: {alarm.get('NewStateReason', '')}".strip()
        return _event(routing_key, action, f"cloudwatch:{alarm['AlarmName']}", summary, alarm)
    return None


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


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda entry point: every SNS record becomes at most one PagerDuty event."""
    routing_key = os.environ["PAGERDUTY_ROUTING_KEY"]
    sent = 0
    for record in event.get("Records", []):
        sns = record["Sns"]
        pager_event = event_for(sns.get("Subject"), sns.get("Message", ""), routing_key)
        if pager_event is None:
            continue
        request = urllib.request.Request(
            EVENTS_URL,
            data=json.dumps(pager_event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # A failure raises: Lambda retries the SNS delivery (twice), then SNS's own policy applies.
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        sent += 1
    return {"sent": sent}
