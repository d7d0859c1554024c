"""The lab end to end: real Prometheus and Alertmanager page on an outage and clear after the repair.

Runs the whole lab once (about 20 s); select it alone with `pytest -m lab`.
"""

from __future__ import annotations

import json

import pytest

from lab.run import MAX_RATIO, LabReport, run_lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def report() -> LabReport:
    return run_lab("dev")


def test_watchdog_reaches_its_own_receiver(report: LabReport) -> None:
    assert 0 < report.watchdog_seconds < 15


def test_healthy_platform_stays_quiet(report: LabReport) -> None:
    assert report.healthy_noise == []


def test_api_outage_pages_within_the_bound_of_the_minimum_the_configuration_allows(report: LabReport) -> None:
    assert report.min_notify_seconds == report.for_seconds + 1 + 1
    assert report.notify_seconds > report.for_seconds  # it did wait for `for`
    assert report.ratio <= MAX_RATIO


def test_the_page_reaches_chat_too(report: LabReport) -> None:
    assert report.for_seconds < report.chat_seconds <= MAX_RATIO * report.min_notify_seconds
    chat = json.loads(report.chat_message)
    assert chat["content"]["title"] == ":rotating_light: CRITICAL ServiceDown on api (dev): firing"


def test_repair_sends_the_resolved_message(report: LabReport) -> None:
    assert report.subjects == ["[FIRING:1] CRITICAL ServiceDown api (dev)", "[RESOLVED] CRITICAL ServiceDown api (dev)"]
    assert 0 < report.resolve_seconds < 10


def test_sns_would_accept_every_message(report: LabReport) -> None:
    assert report.refused == []


def test_the_page_holds_back_warnings_of_the_same_service_only(report: LabReport) -> None:
    assert report.inhibited == ["ApiHighLatency/api"]
    assert report.leaked == []
    assert 0 < report.control_seconds < 5  # redis's warning is not held back by the API's page
