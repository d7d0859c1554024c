"""The AMP Alertmanager definition: routes by severity, inhibitions and SNS message templates.

One renderer serves AMP (the `aws.amp.AlertManagerDefinition` upload), amtool
(`check-config`, `config routes test`) and any locally run Alertmanager
binary. `alertmanager_files` turns the AMP definition back into
the plain files a stand-alone Alertmanager reads.

Topics. Alerts go to one SNS topic per audience rather than one topic with
filter policies:
- `critical`: the paging path (emails, paging emails). Also where our
  CloudWatch alarms on AMP itself go.
- `warning`: the team path (emails); never pages.
- `watchdog`: the dead man's switch; no human subscribes. A CloudWatch alarm
  fires when it stops receiving messages, which catches a dead rule engine,
  a broken Alertmanager or a broken SNS permission all at once.
- `chat` (only when Slack is configured): AWS Chatbot silently drops SNS
  messages that are not in its "custom notification" JSON schema, while the
  same JSON would be unreadable as an email. So chat gets its own topic and
  its own message template, and the critical and warning receivers publish
  to both.
Separate topics keep each subscription list simple (no filter policies to
get wrong), let the watchdog be silent for humans, and make "who gets paged"
a property of the topic that an auditor can read.

`time_scale` renders the same routes on a faster clock: every
group_wait, group_interval and repeat_interval (the Watchdog route's too)
shrinks by it; production (the default) is exactly the text AMP gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from infra.alerting.conventions import GROUP_BY, HEARTBEAT_GROUP_INTERVAL, HEARTBEAT_REPEAT_INTERVAL
from infra.alerting.maintenance import MUTE_INTERVAL_NAME, alertmanager_mute_time_intervals
from infra.alerting.time_scale import PRODUCTION, scaled_duration
from infra.config import StackInput
from infra.yaml_text import dump_yaml

TEMPLATE_FILE = "screener.tmpl"

# Routing is by the `severity` label every rule carries; the Watchdog is
# matched by name because it must never be grouped with anything else.
WATCHDOG_ALERT = "Watchdog"
# Labels that identify what an alert is about; a critical alert inhibits its
# warning twin only when all of them agree.
TWIN_IDENTITY_LABELS = (
    "alertname",
    "service",
    "instance",
    "mountpoint",
    "namespace",
    "pod",
    "container",
    "persistentvolumeclaim",
)
RECEIVER_CRITICAL = "critical"
RECEIVER_WARNING = "warning"
RECEIVER_NULL = "null"
RECEIVER_WATCHDOG = "watchdog"
TOPIC_KEYS = ("critical", "warning", "watchdog")
CHAT_TOPIC = "chat"

# Alerts named `...Down` say a whole service is gone: everything else that
# service raises is a consequence, so it is held back while it lasts.
SERVICE_DOWN_ALERTS = ".+Down"
# AMP refuses a repeat_interval above 5 days.
AMP_MAX_REPEAT_HOURS = 120
# Messages list at most this many alerts: SNS refuses bodies over 256 KB and
# nobody reads past the first screen anyway.
MAX_LISTED_ALERTS = 20
# SNS refuses a Subject of 100 characters or more (and non-ASCII ones).
SUBJECT_MAX_CHARS = 99

# Go text/template for Alertmanager (AMP runs a 0.2x release). `__ENV__`,
# `__MAX__` and `__SUBJECT_CUT__` are filled in by the renderer; everything
# else is evaluated by Alertmanager at notification time.
_TEMPLATES = (Path(__file__).parent / TEMPLATE_FILE).read_text()


def _templates(environment: str) -> str:
    return (
        _TEMPLATES.replace("__ENV__", environment)
        .replace("__MAX__", str(MAX_LISTED_ALERTS))
        .replace("__SUBJECT_CUT__", str(SUBJECT_MAX_CHARS - 3))
        .strip()
        + "\n"
    )


def _region_of(topic_arn: str) -> str:
    """The region of an SNS topic ARN: SigV4 must sign for the topic's own region."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[2] != "sns" or not parts[3]:
        raise ValueError(f"'{topic_arn}' is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)")
    return parts[3]


def _sns(topic_arn: str, message: str, severity: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "topic_arn": topic_arn,
        "sigv4": {"region": _region_of(topic_arn)},
        "send_resolved": True,
        "message": f'{{{{ template "{message}" . }}}}',
        # Always ours: Alertmanager's default subject lists every group label
        # and can pass SNS's 100-character limit, which rejects the message.
        "subject": '{{ template "screener.subject" . }}',
    }
    if severity:
        # Lets a subscriber filter by severity later without a new topic.
        config["attributes"] = {"severity": severity}
    return config


def _receiver(name: str, topic_arns: Mapping[str, str], topic: str) -> dict[str, Any]:
    configs = [_sns(topic_arns[topic], "screener.text", severity=topic)]
    if CHAT_TOPIC in topic_arns:
        # Chatbot reads the JSON body only and ignores the subject.
        configs.append(_sns(topic_arns[CHAT_TOPIC], "screener.chat"))
    return {"name": name, "sns_configs": configs}


def alertmanager_config(
    settings: StackInput, topic_arns: Mapping[str, str], time_scale: Fraction | int = PRODUCTION
) -> dict[str, Any]:
    """The Alertmanager configuration (as data) for one stack, its timings at `time_scale`."""
    missing = [key for key in TOPIC_KEYS if key not in topic_arns]
    if missing:
        raise KeyError(f"topic ARNs missing for {missing}; expected keys {TOPIC_KEYS} (+ '{CHAT_TOPIC}' with Slack)")
    notifications = settings.notifications
    if notifications.repeat_interval_hours > AMP_MAX_REPEAT_HOURS:
        raise ValueError(f"repeatIntervalHours {notifications.repeat_interval_hours} exceeds AMP's cap of 120")
    warning_receiver = RECEIVER_CRITICAL if notifications.page_on_warning else RECEIVER_WARNING

    def timing(duration: str) -> str:
        return scaled_duration(duration, time_scale)

    # Maintenance mutes the people's routes; the Watchdog keeps its heartbeat
    # (its silence would page through the dead man's switch). Mute intervals
    # are wall-clock times: no time scale touches them.
    maintenance = settings.maintenance
    muted: dict[str, Any] = {"mute_time_intervals": [MUTE_INTERVAL_NAME]} if maintenance is not None else {}
    config: dict[str, Any] = {
        "templates": [TEMPLATE_FILE],
        "route": {
            # An alert without a known severity is a mistake in a rule; it
            # still reaches people rather than vanishing.
            "receiver": RECEIVER_WARNING,
            "group_by": list(GROUP_BY),
            "group_wait": timing(f"{notifications.group_wait_seconds}s"),
            "group_interval": timing(f"{notifications.group_interval_minutes}m"),
            "repeat_interval": timing(f"{notifications.repeat_interval_hours}h"),
            "routes": [
                {
                    "receiver": RECEIVER_WATCHDOG,
                    "matchers": [f'alertname="{WATCHDOG_ALERT}"'],
                    "group_by": ["alertname"],
                    "group_wait": timing("0s"),
                    "group_interval": timing(HEARTBEAT_GROUP_INTERVAL),
                    "repeat_interval": timing(HEARTBEAT_REPEAT_INTERVAL),
                },
                {"receiver": RECEIVER_CRITICAL, "matchers": ['severity="critical"'], **muted},
                {"receiver": warning_receiver, "matchers": ['severity="warning"'], **muted},
                {"receiver": RECEIVER_NULL, "matchers": ['severity=~"info|none"']},
            ],
        },
        "inhibit_rules": [
            {
                # The page already says it; the warning twin would only add noise.
                # Only for the same object: a full disk on one node must not
                # hide a filling disk on another (absent labels match absent).
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": list(TWIN_IDENTITY_LABELS),
            },
            {
                # While a service is down, its latency, errors and saturation
                # alerts are consequences, not news.
                "source_matchers": ['severity="critical"', f'alertname=~"{SERVICE_DOWN_ALERTS}"'],
                "target_matchers": ['severity=~"warning|info"', f'alertname!~"{SERVICE_DOWN_ALERTS}"'],
                "equal": ["service"],
            },
        ],
        "receivers": [
            _receiver(RECEIVER_CRITICAL, topic_arns, "critical"),
            _receiver(RECEIVER_WARNING, topic_arns, "warning"),
            {"name": RECEIVER_NULL},
            {
                "name": RECEIVER_WATCHDOG,
                "sns_configs": [
                    {**_sns(topic_arns["watchdog"], "screener.watchdog", severity="none"), "send_resolved": False}
                ],
            },
        ],
    }
    if maintenance is not None:
        config["mute_time_intervals"] = alertmanager_mute_time_intervals(maintenance)
    return config


def _dump(data: Any) -> str:
    return dump_yaml(data, width=1000, allow_unicode=False)


def render_alertmanager_definition(
    settings: StackInput, topic_arns: Mapping[str, str], time_scale: Fraction | int = PRODUCTION
) -> str:
    """AMP's definition document: `template_files` plus `alertmanager_config` as a string.

    At `time_scale` 1 (production) this is what AMP gets; a local run may pass a faster scale (e.g. 1/60).
    """
    config = _dump(alertmanager_config(settings, topic_arns, time_scale))
    return _dump(
        {
            "template_files": {TEMPLATE_FILE: _templates(settings.environment)},
            "alertmanager_config": config,
        }
    )


def alertmanager_files(definition: str) -> dict[str, str]:
    """The plain files a stand-alone Alertmanager (or amtool) reads from an AMP definition.

    Returns `alertmanager.yml` plus each template file by its name; written
    side by side, the config's `templates:` entries resolve to them.
    """
    document = yaml.safe_load(definition)
    if not isinstance(document, dict) or not isinstance(document.get("alertmanager_config"), str):
        raise ValueError("not an AMP Alertmanager definition: expected 'alertmanager_config: |' with a YAML string")
    files: dict[str, str] = {"alertmanager.yml": document["alertmanager_config"]}
    for name, content in (document.get("template_files") or {}).items():
        if name == "alertmanager.yml":
            raise ValueError("a template file may not be called alertmanager.yml")
        files[str(name)] = str(content)
    return files
