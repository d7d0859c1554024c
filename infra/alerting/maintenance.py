"""Maintenance windows as time intervals: UTC ones for AMP's Alertmanager, local ones for Grafana.

Both pipelines read the same `monitoring:maintenance` setting:
- Grafana's mute timings take a `location`, so Grafana gets the windows as
  written, in the stack's time zone.
- AMP's Alertmanager gets them in UTC, without `location`. AMP runs its own
  Alertmanager build, which refused the 0.24 route field
  `active_time_intervals` ("field active_time_intervals not found in type
  config.plain", aws/amazon-managed-service-for-prometheus-roadmap#26) while
  accepting the 0.22 top-level `mute_time_intervals`; `location` came only in
  Alertmanager 0.25 (prometheus/alertmanager#2782). So the renderer uses the
  0.22 form and converts to UTC itself: one-off windows exactly (each date's
  own offset), weekly windows by the zone's fixed offset (the config refuses
  a weekly window in a zone with daylight-saving time).
A window that crosses midnight after the conversion becomes one entry per day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.config.maintenance import WEEKDAYS, MaintenanceSpec, utc_offsets

# The name routes refer to; one per Alertmanager configuration.
MUTE_INTERVAL_NAME = "maintenance"
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True)
class TimeInterval:
    """One entry of Alertmanager's `time_intervals` (Grafana's mute-timing interval has the same fields)."""

    start_minute: int
    end_minute: int
    weekdays: tuple[str, ...] = ()
    days_of_month: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    years: tuple[str, ...] = ()

    @property
    def start_time(self) -> str:
        return _clock(self.start_minute)

    @property
    def end_time(self) -> str:
        return _clock(self.end_minute)

    def alertmanager(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"times": [{"start_time": self.start_time, "end_time": self.end_time}]}
        for key, values in (
            ("weekdays", self.weekdays),
            ("days_of_month", self.days_of_month),
            ("months", self.months),
            ("years", self.years),
        ):
            if values:
                entry[key] = list(values)
        return entry


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _weekly(spec: MaintenanceSpec, offset_minutes: int) -> list[TimeInterval]:
    """Weekly windows shifted by `offset_minutes` (local minus UTC), one entry per distinct time range."""
    days_by_range: dict[tuple[int, int], set[int]] = {}
    for window in spec.weekly:
        length = _minutes(window.end_time) - _minutes(window.start_time)
        for day in window.weekdays:
            start = (WEEKDAYS.index(day) * MINUTES_PER_DAY + _minutes(window.start_time) - offset_minutes) % (
                MINUTES_PER_WEEK
            )
            end = start + length
            while start < end:
                day_start = start - start % MINUTES_PER_DAY
                piece_end = min(end, day_start + MINUTES_PER_DAY)
                key = (start - day_start, piece_end - day_start)
                days_by_range.setdefault(key, set()).add((day_start // MINUTES_PER_DAY) % 7)
                start = piece_end
    return [
        TimeInterval(start, end, weekdays=tuple(WEEKDAYS[day] for day in sorted(days)))
        for (start, end), days in sorted(days_by_range.items())
    ]


def _days(start: datetime, end: datetime) -> Iterator[TimeInterval]:
    """[start, end) as one entry per calendar day (the time zone is the caller's)."""
    while start < end:
        midnight = datetime(start.year, start.month, start.day, tzinfo=start.tzinfo) + timedelta(days=1)
        piece_end = min(end, midnight)
        day_minute = start.hour * 60 + start.minute
        yield TimeInterval(
            day_minute,
            day_minute + int((piece_end - start).total_seconds()) // 60,
            days_of_month=(str(start.day),),
            months=(calendar.month_name[start.month].lower(),),
            years=(str(start.year),),
        )
        start = piece_end


def local_intervals(spec: MaintenanceSpec) -> list[TimeInterval]:
    """Every window as written, in `spec.time_zone` (for Grafana, whose mute timing has `location`)."""
    one_off = [piece for window in spec.one_off for piece in _days(window.start, window.end)]
    return _weekly(spec, 0) + one_off


def utc_intervals(spec: MaintenanceSpec) -> list[TimeInterval]:
    """Every window in UTC (for AMP's Alertmanager, which has no `location`)."""
    zone = spec.zone
    weekly: list[TimeInterval] = []
    if spec.weekly:
        (offset,) = utc_offsets(zone)  # one offset: the config refuses zones with DST for weekly windows
        weekly = _weekly(spec, int(offset.total_seconds()) // 60)
    one_off = [
        piece
        for window in spec.one_off
        for piece in _days(
            window.start.replace(tzinfo=zone).astimezone(UTC), window.end.replace(tzinfo=zone).astimezone(UTC)
        )
    ]
    return weekly + one_off


def alertmanager_mute_time_intervals(spec: MaintenanceSpec) -> list[dict[str, Any]]:
    """The top-level `mute_time_intervals` section (0.22 form; see the module docstring)."""
    return [
        {"name": MUTE_INTERVAL_NAME, "time_intervals": [interval.alertmanager() for interval in utc_intervals(spec)]}
    ]
