"""`monitoring:maintenance`: planned windows in which nobody is notified, for both alerting pipelines.

One setting, rendered twice (`infra.alerting.maintenance`): to AMP's
Alertmanager as a mute time interval and to Grafana as a mute timing, so a
planned database upgrade pages nobody whichever pipeline sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from infra.config.base import Section

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
# A one-off window longer than this is more likely a typo in a date than a plan.
MAX_ONE_OFF_DAYS = 14
# Whether a zone keeps one UTC offset is read from these two years of the tz database
# (fixed, so a plan does not depend on the day it runs).
OFFSET_CHECK_YEAR = 2026


class WeeklyWindow(Section):
    """A window that recurs every week on the listed days, in the maintenance time zone."""

    weekdays: tuple[str, ...] = Field(min_length=1, description="lower-case day names, e.g. [saturday, sunday]")
    start_time: str = Field(pattern=_CLOCK, description="HH:MM, inclusive")
    end_time: str = Field(pattern=_CLOCK + r"|^24:00$", description="HH:MM, exclusive; 24:00 is midnight")

    @field_validator("weekdays")
    @classmethod
    def _weekdays_are_names(cls, weekdays: tuple[str, ...]) -> tuple[str, ...]:
        for day in weekdays:
            if day not in WEEKDAYS:
                raise ValueError(f"'{day}' is not a weekday; use lower-case names: {', '.join(WEEKDAYS)}")
        if len(set(weekdays)) != len(weekdays):
            raise ValueError(f"weekdays {list(weekdays)} lists a day twice")
        return weekdays

    @model_validator(mode="after")
    def _window_is_not_empty(self) -> WeeklyWindow:
        # Both Alertmanager's and Grafana's time ranges stay within one day;
        # a night window is two entries (e.g. 22:00-24:00 and 00:00-02:00 of the next day).
        if self.start_time >= self.end_time:
            raise ValueError(
                f"startTime {self.start_time} must be before endTime {self.end_time} "
                "(a window cannot cross midnight: write a night as two windows)"
            )
        return self


class OneOffWindow(Section):
    """A single planned window, e.g. a database upgrade, as local date-times in the maintenance time zone."""

    start: datetime = Field(description="local start, e.g. 2026-12-24T22:00 (no offset: the time zone applies)")
    end: datetime = Field(description="local end (exclusive), e.g. 2026-12-25T02:00")

    @field_validator("start", "end")
    @classmethod
    def _local_minutes(cls, moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            raise ValueError(f"'{moment.isoformat()}' has an offset; give local time, the timeZone setting applies")
        if moment.second or moment.microsecond:
            raise ValueError(f"'{moment.isoformat()}' has seconds; windows are in whole minutes")
        return moment

    @model_validator(mode="after")
    def _window_is_a_plan(self) -> OneOffWindow:
        if self.start >= self.end:
            raise ValueError(f"start {self.start.isoformat()} must be before end {self.end.isoformat()}")
        if self.end - self.start > timedelta(days=MAX_ONE_OFF_DAYS):
            raise ValueError(
                f"window {self.start.isoformat()} to {self.end.isoformat()} is longer than {MAX_ONE_OFF_DAYS} days; "
                "check the dates (a longer break is a silence or a stack change, not maintenance)"
            )
        return self


def utc_offsets(zone: ZoneInfo, year: int = OFFSET_CHECK_YEAR) -> set[timedelta]:
    """The zone's UTC offsets on the first of each month of `year` and the next."""
    offsets = set()
    for month in range(24):
        offset = datetime(year + month // 12, month % 12 + 1, 1, 12, tzinfo=zone).utcoffset()
        if offset is not None:
            offsets.add(offset)
    return offsets


class MaintenanceSpec(Section):
    """Weekly and one-off maintenance windows, both in one IANA time zone."""

    time_zone: str = Field(default="UTC", description="IANA time zone of every window, e.g. Asia/Seoul")
    weekly: tuple[WeeklyWindow, ...] = ()
    one_off: tuple[OneOffWindow, ...] = ()

    @field_validator("time_zone")
    @classmethod
    def _is_a_time_zone(cls, time_zone: str) -> str:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{time_zone}' is not an IANA time zone (e.g. UTC, Asia/Seoul)") from None
        return time_zone

    @model_validator(mode="after")
    def _has_a_window(self) -> MaintenanceSpec:
        if not self.weekly and not self.one_off:
            raise ValueError("no window: add `weekly` or `oneOff` windows, or remove monitoring:maintenance")
        # AMP's Alertmanager gets the weekly windows in UTC (see infra.alerting.maintenance);
        # a zone whose offset changes would drift by an hour twice a year.
        if self.weekly and len(utc_offsets(self.zone)) > 1:
            raise ValueError(
                f"timeZone {self.time_zone} has daylight-saving time, and AMP's Alertmanager cannot shift a weekly "
                "window with it (no `location` in its time intervals); use a zone without DST (e.g. Asia/Seoul) or "
                "write the weekly windows in UTC"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
