"""`monitoring:maintenance`: planned windows in which nobody is notified, for both alerting pipelines.

One setting, rendered twice (`infra.alerting.maintenance`): to AMP's
Alertmanager as a mute time interval and to Grafana as a mute timing, so a
planned database upgrade pages nobody whichever pipeline sees it.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from infra.config.base import Section, error_at

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
# A one-off window longer than this is more likely a typo in a date than a plan.
MAX_ONE_OFF_DAYS = 14
# Maintenance mutes every notification, critical ones included, while the Watchdog keeps beating: nobody would
# notice a stack muted for good. Two bounds over all windows together:
# - the weekly windows recur for ever, so they may mute at most 10 hours a week (6% of it): a nightly hour of
#   backups (7 h) plus a 3-hour weekend window fits; round-the-clock or business-hours muting does not.
# - all windows (weekly and one-off) may mute at most half of any 30 days: one 14-day upgrade window (the
#   longest one-off) with the weekly ones fits; two chained 14-day windows, or a month of one-offs, do not.
# A longer break is not maintenance: it is a silence with an owner and an end, or a change to the stack.
MAX_WEEKLY_MUTED_MINUTES = 10 * 60
MAX_MUTED_MINUTES_PER_30_DAYS = 15 * 24 * 60
MUTED_BOUND_SPAN = timedelta(days=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A Monday from which weekly windows are laid out when there is no one-off window to centre on.
_REFERENCE_MONDAY = date(2026, 1, 5)
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

    @model_validator(mode="after")
    def _windows_do_not_overlap(self) -> MaintenanceSpec:
        for index, window in enumerate(self.weekly):
            for earlier_index, earlier in enumerate(self.weekly[:index]):
                shared = [day for day in window.weekdays if day in earlier.weekdays]
                if shared and window.start_time < earlier.end_time and earlier.start_time < window.end_time:
                    raise error_at(
                        ("maintenance", "weekly", index),
                        f"overlaps weekly[{earlier_index}] on {', '.join(shared)} ({earlier.start_time}-"
                        f"{earlier.end_time}); merge them into one window",
                    )
        for index, one_off in enumerate(self.one_off):
            for earlier_index, earlier_one_off in enumerate(self.one_off[:index]):
                if one_off.start < earlier_one_off.end and earlier_one_off.start < one_off.end:
                    raise error_at(
                        ("maintenance", "oneOff", index),
                        f"overlaps oneOff[{earlier_index}] ({earlier_one_off.start.isoformat()} to "
                        f"{earlier_one_off.end.isoformat()}); "
                        "merge them into one window",
                    )
        return self

    @model_validator(mode="after")
    def _muted_time_is_bounded(self) -> MaintenanceSpec:
        weekly = self.weekly_muted_minutes()
        if weekly > MAX_WEEKLY_MUTED_MINUTES:
            raise error_at(
                ("maintenance", "weekly"),
                f"the weekly windows mute every notification (critical included) {weekly} minutes a week; at most "
                f"{MAX_WEEKLY_MUTED_MINUTES} ({MAX_WEEKLY_MUTED_MINUTES // 60} hours): shorten them, or use a "
                "one-off window for a one-time job",
            )
        muted, start = self.most_muted_minutes(MUTED_BOUND_SPAN)
        if muted > MAX_MUTED_MINUTES_PER_30_DAYS:
            raise error_at(
                ("maintenance", "oneOff"),
                f"the windows mute every notification (critical included) {muted} minutes in the 30 days from "
                f"{start:%Y-%m-%d %H:%M} UTC; at most {MAX_MUTED_MINUTES_PER_30_DAYS} (15 days): spread or shorten "
                "the one-off windows (a longer break is a silence with an owner, not maintenance)",
            )
        return self

    def weekly_muted_minutes(self) -> int:
        """Minutes the weekly windows mute in every week (they do not overlap)."""
        return sum(
            (_minute_of_day(window.end_time) - _minute_of_day(window.start_time)) * len(window.weekdays)
            for window in self.weekly
        )

    def muted_intervals(self, start: datetime, end: datetime) -> list[tuple[int, int]]:
        """Every muted stretch that touches [start, end) (UTC), as merged, sorted [from, to) minutes since 1970."""
        stretches = [(_utc_minute(o.start, self.zone), _utc_minute(o.end, self.zone)) for o in self.one_off]
        first_monday = (start - timedelta(days=7)).date()
        first_monday -= timedelta(days=first_monday.weekday())
        for week in range((end - start).days // 7 + 3):
            monday = first_monday + timedelta(weeks=week)
            for window in self.weekly:
                for day in window.weekdays:
                    local_day = monday + timedelta(days=WEEKDAYS.index(day))
                    local_start = datetime.combine(local_day, time()) + timedelta(
                        minutes=_minute_of_day(window.start_time)
                    )
                    length = _minute_of_day(window.end_time) - _minute_of_day(window.start_time)
                    first = _utc_minute(local_start, self.zone)
                    stretches.append((first, first + length))
        merged: list[tuple[int, int]] = []
        for first, last in sorted(stretches):
            if merged and first <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return merged

    def most_muted_minutes(self, span: timedelta) -> tuple[int, datetime]:
        """The most minutes muted within any `span` (weekly and one-off windows together), and where it starts."""
        span_minutes = int(span.total_seconds()) // 60
        margin = span + timedelta(days=7)
        # Around each one-off window (and once for the weekly windows alone): the busiest span starts at the
        # start of a muted stretch or ends at the end of one.
        reference = datetime.combine(_REFERENCE_MONDAY, time(), tzinfo=UTC)
        ranges = [(reference, reference + margin + margin)]
        ranges += [
            (_utc(w.start, self.zone) - margin, _utc(w.end, self.zone) + margin)
            for w in sorted(self.one_off, key=lambda w: w.start)
        ]
        best, best_start = 0, reference
        for range_start, range_end in _merged_ranges(ranges):
            muted = _MutedTimeline(self.muted_intervals(range_start, range_end))
            low, high = _minutes_since_epoch(range_start), _minutes_since_epoch(range_end) - span_minutes
            for candidate in muted.candidate_starts(span_minutes):
                if low <= candidate <= high:
                    minutes = muted.within(candidate, candidate + span_minutes)
                    if minutes > best:
                        best, best_start = minutes, _EPOCH + timedelta(minutes=candidate)
        return best, best_start

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class _MutedTimeline:
    """Merged, sorted muted stretches [from, to) in minutes, and the muted minutes within any range."""

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.intervals = intervals
        self.starts = [first for first, _ in intervals]
        self.before = [0]
        for first, last in intervals:
            self.before.append(self.before[-1] + last - first)

    def _until(self, moment: int) -> int:
        index = bisect_right(self.starts, moment) - 1
        if index < 0:
            return 0
        first, last = self.intervals[index]
        return self.before[index] + min(moment, last) - first

    def within(self, start: int, end: int) -> int:
        return self._until(end) - self._until(start)

    def candidate_starts(self, span_minutes: int) -> set[int]:
        # The muted minutes in [x, x + span) change slope only where x or x + span meets a stretch's edge,
        # so the maximum is at a span starting where a stretch starts or ending where one ends.
        return {first for first, _ in self.intervals} | {last - span_minutes for _, last in self.intervals}


def _minute_of_day(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _minutes_since_epoch(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds()) // 60


def _utc_minute(local: datetime, zone: ZoneInfo) -> int:
    return _minutes_since_epoch(_utc(local, zone))


def _merged_ranges(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
