"""`make silence` and `make alerts` against the real Alertmanager (0.25), through the command line.

The tools sign every request (SigV4, service `aps`) for AMP; a plain
Alertmanager on loopback serves the same v2 API, ignores the signature and is
reached only with `--local` (LOCAL=1), signed with a key that is not the
caller's. A silenced critical must page nobody while an unsilenced warning still does,
and `alerts` must show the first suppressed by the new silence.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from lab.config import clock, lab_settings
from lab.processes import wait_for
from lab.standalone import standalone_alertmanager

pytestmark = pytest.mark.lab
CRITICAL = {"alertname": "PostgresDown", "severity": "critical", "service": "postgres", "env": "staging"}
WARNING = {"alertname": "RedisEvictions", "severity": "warning", "service": "redis", "env": "staging"}
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDLABONLY", "AWS_SECRET_ACCESS_KEY": "lab-only-not-a-secret"}


def oncall(*args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **TEST_CREDENTIALS}
    result = subprocess.run(
        [sys.executable, "-m", "oncall", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_silenced_alert_pages_nobody_and_alerts_shows_it_suppressed() -> None:
    settings = lab_settings("staging")
    timing = clock(settings)
    with standalone_alertmanager(settings) as am:
        said = oncall(
            "silence", "--stack", "staging", "--url", am.url, "--local", "--match", 'service="postgres"', "--for", "2h"
        )
        silence_id = said.split()[1].rstrip(":")
        assert said.startswith(f'silence {silence_id}: service="postgres" until ')
        am.post_alerts(CRITICAL, WARNING)
        wait_for("the unsilenced warning", lambda: any("RedisEvictions" in s for s in am.published_to("warning")), 20.0)
        time.sleep(timing.group_wait_seconds + timing.group_interval_seconds + 1)
        assert am.published_to("critical") == []
        table = oncall("alerts", "--stack", "staging", "--url", am.url, "--local").splitlines()
        assert table[0].split() == ["STATE", "SEVERITY", "ALERT", "SERVICE", "SINCE", "(UTC)", "SILENCED", "BY"]
        rows = {line.split()[2]: line.split() for line in table[1:]}
        assert rows["PostgresDown"][0] == "suppressed" and rows["PostgresDown"][-1] == silence_id
        assert rows["RedisEvictions"][0] == "active" and rows["RedisEvictions"][-1] == "-"
