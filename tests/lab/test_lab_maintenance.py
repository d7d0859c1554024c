"""The lab proves maintenance muting on the real Alertmanager (0.25) with the rendered configuration.

Windows are one-off, in Asia/Seoul (UTC+9), around the real clock: the
renderer converts them to UTC for AMP, and Alertmanager must mute exactly
then. Inside a window, critical and warning alerts page nobody while the
Watchdog still beats; outside it the same alerts page. Mute intervals are
wall-clock times (the lab's 1/60 scale does not touch them); the scaled
group_wait (0.5 s) and group_interval (5 s) decide how long to wait.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infra.config import StackInput
from lab.config import clock, lab_settings
from lab.processes import wait_for
from lab.standalone import StandaloneAlertmanager, standalone_alertmanager

pytestmark = pytest.mark.lab
ZONE = "Asia/Seoul"
CRITICAL = {"alertname": "PostgresDown", "severity": "critical", "service": "postgres", "env": "staging"}
WARNING = {"alertname": "RedisEvictions", "severity": "warning", "service": "redis", "env": "staging"}
WATCHDOG = {"alertname": "Watchdog", "severity": "none", "env": "staging"}
# Generous on a shared machine: the Watchdog (group_wait 0) is the yardstick that Alertmanager is flushing.
ARRIVAL_TIMEOUT_SECONDS = 20.0


def with_window(start: datetime, end: datetime) -> StackInput:
    raw = lab_settings("staging").model_dump(by_alias=True, mode="json", exclude_none=True)
    raw["maintenance"] = {"timeZone": ZONE, "oneOff": [{"start": start.isoformat(), "end": end.isoformat()}]}
    return StackInput.model_validate(raw)


def seoul_now() -> datetime:
    return datetime.now(ZoneInfo(ZONE)).replace(second=0, microsecond=0, tzinfo=None)


def wait_until_published(am: StandaloneAlertmanager, topic: str, alertname: str) -> None:
    wait_for(
        f"{alertname} on the {topic} topic",
        lambda: any(alertname in subject for subject in am.published_to(topic)),
        ARRIVAL_TIMEOUT_SECONDS,
    )


def test_inside_a_window_alerts_are_muted_but_the_watchdog_beats() -> None:
    now = seoul_now()
    settings = with_window(now - timedelta(hours=1), now + timedelta(hours=1))
    timing = clock(settings)
    with standalone_alertmanager(settings) as am:
        am.post_alerts(CRITICAL, WARNING, WATCHDOG)
        wait_until_published(am, "watchdog", "Watchdog")
        # Past group_wait and one group_interval: a muted group would have flushed by now if unmuted.
        time.sleep(timing.group_wait_seconds + timing.group_interval_seconds + 1)
        assert am.published_to("critical") == []
        assert am.published_to("warning") == []
        assert am.sns.refused == []


def test_outside_a_window_the_same_alerts_page() -> None:
    now = seoul_now()
    settings = with_window(now + timedelta(hours=2), now + timedelta(hours=3))
    with standalone_alertmanager(settings) as am:
        am.post_alerts(CRITICAL, WARNING, WATCHDOG)
        wait_until_published(am, "critical", "PostgresDown")
        wait_until_published(am, "warning", "RedisEvictions")
        wait_until_published(am, "watchdog", "Watchdog")
        assert am.sns.refused == []
