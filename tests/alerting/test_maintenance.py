"""`monitoring:maintenance`: one setting, muted alike by AMP's Alertmanager (UTC) and Grafana (local time).

Expected conversions are worked out by hand (Asia/Seoul is UTC+9 all year;
America/New_York is UTC-5 in January and UTC-4 in July). That both
renderings mute exactly the instants the setting names is checked by
evaluating them, every 5 minutes of a week and of each one-off day, against
the setting read directly (`_in_window`), with Alertmanager's semantics
(start inclusive, end exclusive; weekdays, days of month, months, years as
lists). amtool (the real Alertmanager 0.25 parser) must accept the result.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting.alertmanager import RECEIVER_WATCHDOG, alertmanager_config, alertmanager_files
from infra.alerting.maintenance import TimeInterval, local_intervals, utc_intervals
from infra.config import ConfigError, StackInput
from infra.config.maintenance import WEEKDAYS, MaintenanceSpec
from infra.config.stackfile import stack_settings
from planner.engine import run_stack
from tests.alerting.test_alertmanager import amtool, config_of, extracted
from tests.conftest import plan_of

PROD_FILE = "stacks/Pulumi.prod.yaml"
TOPICS = {audience: f"arn:aws:sns:ap-northeast-2:000000000000:t-{audience}" for audience in ("critical", "warning")}
TOPICS["watchdog"] = "arn:aws:sns:ap-northeast-2:000000000000:t-watchdog"


def spec(**raw: Any) -> MaintenanceSpec:
    return MaintenanceSpec.model_validate(raw)


def _am(intervals: list[TimeInterval]) -> list[dict[str, Any]]:
    return [interval.alertmanager() for interval in intervals]


def test_a_seoul_weekly_window_moves_nine_hours_back_in_utc() -> None:
    window = spec(timeZone="Asia/Seoul", weekly=[{"weekdays": ["sunday"], "startTime": "18:00", "endTime": "19:00"}])
    assert _am(utc_intervals(window)) == [
        {"times": [{"start_time": "09:00", "end_time": "10:00"}], "weekdays": ["sunday"]}
    ]


def test_a_window_that_crosses_utc_midnight_becomes_two_days() -> None:
    # Monday 08:00-10:00 in Seoul is Sunday 23:00-24:00 and Monday 00:00-01:00 UTC.
    window = spec(timeZone="Asia/Seoul", weekly=[{"weekdays": ["monday"], "startTime": "08:00", "endTime": "10:00"}])
    assert _am(utc_intervals(window)) == [
        {"times": [{"start_time": "00:00", "end_time": "01:00"}], "weekdays": ["monday"]},
        {"times": [{"start_time": "23:00", "end_time": "24:00"}], "weekdays": ["sunday"]},
    ]


def test_a_one_off_window_uses_that_dates_own_offset() -> None:
    # New York: EST (UTC-5) in January, EDT (UTC-4) in July.
    window = spec(
        timeZone="America/New_York",
        oneOff=[
            {"start": "2027-01-04T10:00", "end": "2027-01-04T12:00"},
            {"start": "2027-07-04T22:00", "end": "2027-07-05T01:00"},
        ],
    )
    assert _am(utc_intervals(window)) == [
        {
            "times": [{"start_time": "15:00", "end_time": "17:00"}],
            "days_of_month": ["4"],
            "months": ["january"],
            "years": ["2027"],
        },
        {
            "times": [{"start_time": "02:00", "end_time": "05:00"}],
            "days_of_month": ["5"],
            "months": ["july"],
            "years": ["2027"],
        },
    ]
    # Grafana keeps local time and cuts at local midnight.
    assert _am(local_intervals(window))[1:] == [
        {
            "times": [{"start_time": "22:00", "end_time": "24:00"}],
            "days_of_month": ["4"],
            "months": ["july"],
            "years": ["2027"],
        },
        {
            "times": [{"start_time": "00:00", "end_time": "01:00"}],
            "days_of_month": ["5"],
            "months": ["july"],
            "years": ["2027"],
        },
    ]


# --- both renderings mute exactly what the setting says -------------------------------------------------------


def _matches(intervals: list[TimeInterval], moment: datetime) -> bool:
    """Alertmanager's time-interval semantics, for the entries our renderer emits (single values, no ranges)."""
    minute = moment.hour * 60 + moment.minute
    for entry in intervals:
        if entry.weekdays and WEEKDAYS[moment.weekday()] not in entry.weekdays:
            continue
        if entry.days_of_month and str(moment.day) not in entry.days_of_month:
            continue
        if entry.months and moment.strftime("%B").lower() not in entry.months:
            continue
        if entry.years and str(moment.year) not in entry.years:
            continue
        if entry.start_minute <= minute < entry.end_minute:
            return True
    return False


def _in_window(setting: MaintenanceSpec, moment: datetime) -> bool:
    local = moment.astimezone(setting.zone).replace(tzinfo=None)
    clock = local.strftime("%H:%M")
    weekly = any(WEEKDAYS[local.weekday()] in w.weekdays and w.start_time <= clock < w.end_time for w in setting.weekly)
    return weekly or any(w.start <= local < w.end for w in setting.one_off)


@pytest.mark.parametrize(
    "raw",
    [
        {
            "timeZone": "Asia/Seoul",
            "weekly": [
                {"weekdays": ["sunday", "wednesday"], "startTime": "18:00", "endTime": "19:30"},
                # Crosses UTC midnight (22:00 Sunday to 01:00 Monday UTC); within the weekly muting bound.
                {"weekdays": ["monday"], "startTime": "07:00", "endTime": "10:00"},
                {"weekdays": ["saturday"], "startTime": "22:00", "endTime": "24:00"},
            ],
            "oneOff": [{"start": "2026-12-31T23:00", "end": "2027-01-01T02:00"}],
        },
        {"timeZone": "America/New_York", "oneOff": [{"start": "2027-03-13T23:00", "end": "2027-03-14T04:00"}]},
        {"timeZone": "Asia/Kolkata", "weekly": [{"weekdays": ["friday"], "startTime": "03:10", "endTime": "05:45"}]},
    ],
)
def test_amp_and_grafana_mute_exactly_the_configured_minutes(raw: dict[str, Any]) -> None:
    setting = spec(**raw)
    utc, local = utc_intervals(setting), local_intervals(setting)
    starts = [datetime(2027, 1, 4, tzinfo=UTC)] + [
        w.start.replace(tzinfo=setting.zone) - timedelta(days=1) for w in setting.one_off
    ]
    muted = 0
    for start in starts:
        for step in range(0, 7 * 24 * 60 if start == starts[0] else 3 * 24 * 60, 5):
            moment = (start + timedelta(minutes=step)).astimezone(UTC)
            expected = _in_window(setting, moment)
            assert _matches(utc, moment) == expected, f"AMP at {moment.isoformat()}"
            assert _matches(local, moment.astimezone(setting.zone)) == expected, f"Grafana at {moment.isoformat()}"
            muted += expected
    assert muted > 0


# --- the Alertmanager configuration ------------------------------------------------------------------------------


def _settings(maintenance: dict[str, Any] | None, page_on_warning: bool = False) -> StackInput:
    raw = stack_settings("prod").model_dump(by_alias=True, mode="json", exclude_none=True)
    raw.pop("maintenance", None)
    if maintenance is not None:
        raw["maintenance"] = maintenance
    raw["notifications"]["pageOnWarning"] = page_on_warning
    return StackInput.model_validate(raw)


@pytest.mark.parametrize("page_on_warning", [False, True])
def test_maintenance_mutes_the_peoples_routes_and_never_the_watchdog(page_on_warning: bool) -> None:
    window = {"timeZone": "UTC", "weekly": [{"weekdays": ["sunday"], "startTime": "01:00", "endTime": "02:00"}]}
    config = alertmanager_config(_settings(window, page_on_warning), TOPICS)
    routes = {route["matchers"][0]: route for route in config["route"]["routes"]}
    assert routes['severity="critical"']["mute_time_intervals"] == ["maintenance"]
    assert routes['severity="warning"']["mute_time_intervals"] == ["maintenance"]
    assert routes['alertname="Watchdog"']["receiver"] == RECEIVER_WATCHDOG
    assert "mute_time_intervals" not in routes['alertname="Watchdog"']
    assert [i["name"] for i in config["mute_time_intervals"]] == ["maintenance"]


def test_without_maintenance_nothing_is_muted() -> None:
    config = alertmanager_config(_settings(None), TOPICS)
    assert "mute_time_intervals" not in config
    assert all("mute_time_intervals" not in route for route in config["route"]["routes"])


def test_amtool_accepts_a_config_with_one_off_and_midnight_crossing_windows(tmp_path: Path) -> None:
    window = {
        "timeZone": "Asia/Seoul",
        "weekly": [{"weekdays": ["monday", "friday"], "startTime": "08:00", "endTime": "10:00"}],
        "oneOff": [{"start": "2027-02-28T20:00", "end": "2027-03-01T11:00"}],
    }
    definition = yaml.safe_dump({"alertmanager_config": yaml.safe_dump(alertmanager_config(_settings(window), TOPICS))})
    files = alertmanager_files(definition)
    (tmp_path / "alertmanager.yml").write_text(files["alertmanager.yml"])
    (tmp_path / "screener.tmpl").write_text("")
    result = subprocess.run(
        [amtool(), "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prods_planned_definition_carries_its_windows_in_utc(tmp_path: Path) -> None:
    # Pulumi.prod.yaml: Asia/Seoul Sunday 18:00-19:00 -> 09:00-10:00 UTC; 2026-12-13 02:00-04:00 -> 12th 17:00-19:00.
    config = config_of(extracted(plan_of("prod"), tmp_path))
    assert config["mute_time_intervals"] == [
        {
            "name": "maintenance",
            "time_intervals": [
                {"times": [{"start_time": "09:00", "end_time": "10:00"}], "weekdays": ["sunday"]},
                {
                    "times": [{"start_time": "17:00", "end_time": "19:00"}],
                    "days_of_month": ["12"],
                    "months": ["december"],
                    "years": ["2026"],
                },
            ],
        }
    ]


# --- bad settings ------------------------------------------------------------------------------------------------


def refused(maintenance: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        run_stack("prod", overrides={"monitoring:maintenance": maintenance})
    return info.value.problems


WEEKLY = [{"weekdays": ["sunday"], "startTime": "18:00", "endTime": "19:00"}]


@pytest.mark.parametrize(
    ("maintenance", "expected"),
    [
        (
            {"weekly": [{**WEEKLY[0], "weekdays": ["sundy"]}]},
            "monitoring:maintenance.weekly[0].weekdays: 'sundy' is not a weekday",
        ),
        ({"timeZone": "Seoul", "weekly": WEEKLY}, "monitoring:maintenance.timeZone: 'Seoul' is not an IANA time zone"),
        (
            {"weekly": [{**WEEKLY[0], "startTime": "23:00", "endTime": "01:00"}]},
            "monitoring:maintenance.weekly[0]: startTime 23:00 must be before endTime 01:00",
        ),
        (
            {"timeZone": "Europe/Berlin", "weekly": WEEKLY},
            "monitoring:maintenance: timeZone Europe/Berlin has daylight-saving time",
        ),
        (
            {"oneOff": [{"start": "2027-01-02T00:00", "end": "2027-01-01T00:00"}]},
            "monitoring:maintenance.oneOff[0]: start 2027-01-02T00:00:00 must be before end",
        ),
        ({"oneOff": [{"start": "2027-01-01T00:00", "end": "2027-02-01T00:00"}]}, "is longer than 14 days"),
        (
            {"oneOff": [{"start": "2027-01-01T00:00+09:00", "end": "2027-01-01T02:00+09:00"}]},
            "has an offset; give local time",
        ),
        ({"timeZone": "UTC"}, "monitoring:maintenance: no window"),
    ],
)
def test_a_bad_maintenance_setting_is_refused(maintenance: dict[str, Any], expected: str) -> None:
    problems = refused(maintenance)
    assert any(p.startswith(f"{PROD_FILE}: ") and expected in p for p in problems), problems
    assert not any("notificationPolicy" in p for p in problems), "an invalid window is reported once, as itself"
