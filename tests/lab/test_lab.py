"""Every alert family end to end on the real Prometheus and Alertmanager (staging rules: every family).

One lab for the module (`run_families` in one shot, about two minutes: lanes
of faults run concurrently); each test reads its part of the report. Select
the lab alone with `pytest -m lab`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.config import lab_settings
from lab.faults import FAULTS
from lab.scenario import (
    MAX_RATIO,
    FamiliesReport,
    LabClient,
    Measured,
    dashboard_queries,
    empty_dashboard_panels,
    faults_to_measure,
    run_families,
)
from lab.stack import Lab

pytestmark = pytest.mark.lab
STACK = "staging"  # the superset: dev has no cluster, hence no resource rules
REPORT_FILE = Path("build/lab/test-report.txt")
# Computed at collection: a fault whose alert this stack cannot show paging at the lab's scale is no parameter.
FAULT_NAMES = list(faults_to_measure(lab_settings(STACK)))


@pytest.fixture(scope="module")
def lab_run() -> Iterator[tuple[FamiliesReport, list[str]]]:
    """The families' report, and the dashboard panels that showed no data once they had run."""
    with tempfile.TemporaryDirectory(prefix="screener-lab-") as directory:
        lab = Lab(STACK, Path(directory))
        lab.start()
        try:
            client = LabClient(lab.urls)
            report = run_families(client, lab.settings, STACK, lab.timing, time.monotonic())
            empty = empty_dashboard_panels(client, lab.settings)
            # The table, for whoever reads a failure (and the README's numbers).
            REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
            REPORT_FILE.write_text("\n".join([*report.lines(), *(f"  no data: {panel}" for panel in empty)]) + "\n")
            yield report, empty
        finally:
            lab.stop()


@pytest.fixture(scope="module")
def report(lab_run: tuple[FamiliesReport, list[str]]) -> FamiliesReport:
    return lab_run[0]


def _measured(report: FamiliesReport, fault: str) -> list[Measured]:
    assert fault not in dict(report.skipped), f"{fault} was skipped although it is a parameter: {report.skipped}"
    measured = [m for m in report.measured if m.fault == fault]
    assert measured, f"{fault} produced no measurement: {report.errors}"
    return measured


def test_no_lane_failed(report: FamiliesReport) -> None:
    assert report.errors == []


def test_healthy_platform_stays_quiet(report: FamiliesReport) -> None:
    assert report.healthy_noise == []


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_fault_pages_through_its_route_within_the_bound_and_clears(report: FamiliesReport, fault: str) -> None:
    for m in _measured(report, fault):
        assert m.topic == ("critical" if m.severity == "critical" else "warning")
        assert m.subject.startswith(f"[FIRING:{FAULTS[fault].grouped}] {m.severity.upper()} {m.alert} {m.service} (")
        assert m.notified_seconds >= m.for_seconds  # it did wait for `for`
        assert m.ratio <= MAX_RATIO, f"{m.alert}: {m.notified_seconds:.2f} s for a minimum of {m.minimum_seconds:.2f} s"
        assert m.in_chat
        assert m.resolved_seconds > 0


def test_a_critical_holds_back_its_warning(report: FamiliesReport) -> None:
    assert {(h.fault, h.alert) for h in report.held_back} >= {("disk", "NodeDiskFreeLow"), ("down", "ServiceDown")}
    for h in report.held_back:
        assert h.fired_in_prometheus and h.inhibited_in_alertmanager, h
        assert h.notified == [], h


def test_a_down_service_holds_back_its_other_warnings(report: FamiliesReport) -> None:
    backlog = next(h for h in report.held_back if h.fault == "celery-workers-down")
    assert backlog.alert == "CeleryQueueBacklog" and backlog.inhibited_in_alertmanager and not backlog.notified


def test_two_alerts_of_one_group_arrive_in_one_notification(report: FamiliesReport) -> None:
    (queue,) = _measured(report, "celery-queue")
    assert queue.firing_count == 2


def test_watchdog_heartbeat_arrives_every_repeat_interval(report: FamiliesReport) -> None:
    repeat = 5.0  # 5m at 1/60
    assert 0 < report.watchdog_first_seconds < 15
    assert len(report.watchdog_gaps) >= report.seconds / (2 * repeat)
    assert all(repeat - 0.5 <= gap <= repeat + report.timing.group_interval_seconds for gap in report.watchdog_gaps[1:])


def test_a_prometheus_restart_loses_no_firing_alert(report: FamiliesReport) -> None:
    restart = report.restart
    assert restart is not None
    assert restart.resolved_during == []
    assert restart.firing_after and restart.active_in_alertmanager
    assert 0 < restart.resolved_after_repair_seconds < 10


def test_sns_would_accept_every_message(report: FamiliesReport) -> None:
    assert report.refused == []
    chat = json.loads(report.chat_example)
    assert chat["version"] == "1.0" and chat["content"]["title"]


def test_rules_the_lab_cannot_show_are_listed_with_a_reason(report: FamiliesReport) -> None:
    listed = {u.alert for u in report.untestable}
    assert {"ScreeningRequestsStalled", "ApiTrafficDropped", "NodeDiskFillingUp"} <= listed
    assert all(u.reason for u in report.untestable)


def test_every_dashboard_panel_on_amp_shows_data_from_the_lab(lab_run: tuple[FamiliesReport, list[str]]) -> None:
    assert len(dashboard_queries(lab_settings(STACK))) > 50  # every AMP panel of every dashboard
    assert lab_run[1] == []
