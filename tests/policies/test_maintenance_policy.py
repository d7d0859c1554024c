"""maintenance-muted-time-bounded: the mute timings that reach Grafana and AMP mute for a bounded time.

Each case renders a `monitoring:maintenance` setting with the program's own
renderers (infra/alerting/maintenance.py) into the resources' shapes, built
without the configuration's validation (`model_construct`), so the policy is
what stops it: a deployed mute timing is checked whatever code wrote it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from screener_policies.maintenance import (
    ALERT_MANAGER_DEFINITION,
    DEFAULT_MAX_MUTED_MINUTES_PER_30_DAYS,
    DEFAULT_MAX_WEEKLY_MUTED_MINUTES,
    GRAFANA_MUTE_TIMING,
    interval_of,
    maintenance_muted_time_bounded,
    muted_minutes,
)

from infra.alerting.maintenance import alertmanager_mute_time_intervals, local_intervals
from infra.config.maintenance import (
    MAX_MUTED_MINUTES_PER_30_DAYS,
    MAX_ONE_OFF_DAYS,
    MAX_WEEKLY_MUTED_MINUTES,
    MaintenanceSpec,
    OneOffWindow,
    WeeklyWindow,
)
from tests.bad_stack_files import ACCEPTED, CASES, outcome
from tests.policies.support import args, messages

WEEKDAYS_MON_FRI = ("monday", "tuesday", "wednesday", "thursday", "friday")


def spec(weekly: tuple[WeeklyWindow, ...] = (), one_off: tuple[OneOffWindow, ...] = (), zone: str = "UTC") -> Any:
    return MaintenanceSpec.model_construct(time_zone=zone, weekly=weekly, one_off=one_off)


def weekly(days: tuple[str, ...], start: str, end: str) -> WeeklyWindow:
    return WeeklyWindow.model_construct(weekdays=days, start_time=start, end_time=end)


def one_off(start: str, end: str) -> OneOffWindow:
    return OneOffWindow.model_construct(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))


def grafana(maintenance: Any, config: dict[str, Any] | None = None) -> Any:
    intervals = []
    for interval in local_intervals(maintenance):
        entry: dict[str, Any] = {
            "times": [{"start": interval.start_time, "end": interval.end_time}],
            "location": maintenance.time_zone,
        }
        for key, values in (
            ("weekdays", interval.weekdays),
            ("daysOfMonths", interval.days_of_month),
            ("months", interval.months),
            ("years", interval.years),
        ):
            if values:
                entry[key] = list(values)
        intervals.append(entry)
    return args(GRAFANA_MUTE_TIMING, {"name": "screener-dev-maintenance", "intervals": intervals}, config=config)


def alertmanager(maintenance: Any) -> Any:
    config = {"route": {"receiver": "x"}, "mute_time_intervals": alertmanager_mute_time_intervals(maintenance)}
    definition = yaml.safe_dump({"alertmanager_config": yaml.safe_dump(config)})
    return args(ALERT_MANAGER_DEFINITION, {"definition": definition})


RENDERERS = {"grafana": grafana, "alertmanager": alertmanager}


def test_the_policy_defaults_are_the_configuration_bounds() -> None:
    assert DEFAULT_MAX_WEEKLY_MUTED_MINUTES == MAX_WEEKLY_MUTED_MINUTES
    assert DEFAULT_MAX_MUTED_MINUTES_PER_30_DAYS == MAX_MUTED_MINUTES_PER_30_DAYS


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_weekly_windows_exactly_at_the_weekly_bound_pass(render: Any) -> None:
    # 5 x 120 = 600 minutes a week.
    assert messages(maintenance_muted_time_bounded, render(spec((weekly(WEEKDAYS_MON_FRI, "00:00", "02:00"),)))) == []


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_weekly_windows_one_minute_over_the_weekly_bound_are_refused(render: Any) -> None:
    windows = (weekly(WEEKDAYS_MON_FRI, "00:00", "02:00"), weekly(("saturday",), "00:00", "00:01"))
    (message,) = messages(maintenance_muted_time_bounded, render(spec(windows, zone="Asia/Seoul")))
    assert "601 minutes every week; at most 600" in message


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_a_whole_week_of_maintenance_is_refused(render: Any) -> None:
    every_day = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    found = messages(maintenance_muted_time_bounded, render(spec((weekly(every_day, "00:00", "24:00"),))))
    assert any("10080 minutes every week" in message for message in found), found


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_one_off_windows_exactly_at_the_30_day_bound_pass(render: Any) -> None:
    # 14 days + 1 day = 21,600 minutes within 30 days.
    windows = (one_off("2026-12-01T00:00", "2026-12-15T00:00"), one_off("2026-12-20T00:00", "2026-12-21T00:00"))
    assert messages(maintenance_muted_time_bounded, render(spec(one_off=windows))) == []


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_one_off_windows_one_minute_over_the_30_day_bound_are_refused(render: Any) -> None:
    windows = (one_off("2026-12-01T00:00", "2026-12-15T00:00"), one_off("2026-12-20T00:00", "2026-12-21T00:01"))
    (message,) = messages(maintenance_muted_time_bounded, render(spec(one_off=windows)))
    assert "21601 minutes in the 30 days from 2026-" in message and "at most 21600" in message


@pytest.mark.parametrize("render", RENDERERS.values(), ids=RENDERERS.keys())
def test_chained_fourteen_day_windows_are_refused(render: Any) -> None:
    windows = (one_off("2026-12-01T00:00", "2026-12-15T00:00"), one_off("2026-12-15T00:00", "2026-12-29T00:00"))
    (message,) = messages(maintenance_muted_time_bounded, render(spec(one_off=windows, zone="Asia/Seoul")))
    assert "40320 minutes in the 30 days" in message


def test_the_bounds_are_policy_configuration() -> None:
    resource = grafana(spec((weekly(WEEKDAYS_MON_FRI, "00:00", "02:00"),)), {"maxWeeklyMutedMinutes": 599})
    (message,) = messages(maintenance_muted_time_bounded, resource)
    assert "600 minutes every week; at most 599" in message


def test_a_one_off_window_of_exactly_fourteen_days_renders_fourteen_days_of_muting(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.id == "valid-maintenance-one-off-of-exactly-14-days")
    assert outcome(case, tmp_path).status == ACCEPTED
    plan = json.loads((tmp_path / case.stack / "plan.json").read_text())
    (timing,) = [r for r in plan["resources"] if r["type"] == GRAFANA_MUTE_TIMING]
    intervals = [interval_of(entry, "start", "end", "daysOfMonths") for entry in timing["inputs"]["intervals"]]
    # prod's weekly Sunday hour stays as it was; the dated intervals mute exactly the 14 days, no minute more.
    assert muted_minutes([i for i in intervals if i.recurs_weekly])[0] == 60
    assert muted_minutes([i for i in intervals if not i.recurs_weekly])[1] == MAX_ONE_OFF_DAYS * 24 * 60
