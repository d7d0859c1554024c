"""How long the maintenance windows may mute notifications, read from what is deployed.

Maintenance mutes every notification, critical included, while the Watchdog
keeps beating, so nobody would notice a stack muted for good. The stack
configuration bounds `monitoring:maintenance` (infra/config/maintenance.py);
this policy applies the same bounds to the mute timings that reach Grafana
and AMP's Alertmanager, whichever code wrote them:

- the recurring intervals (no date fields) may mute at most 600 minutes a week;
- all intervals together may mute at most 21,600 minutes (15 days) in any 30
  consecutive days, counted over calendar days in the interval's own location.

Both bounds are policy configuration (`maxWeeklyMutedMinutes`,
`maxMutedMinutesPer30Days`); a test keeps the defaults equal to the
configuration's (the pack cannot import infra).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import yaml
from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from screener_policies.common import as_list, is_mapping, validation_of

GRAFANA_MUTE_TIMING = "grafana:alerting/muteTiming:MuteTiming"
ALERT_MANAGER_DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
DEFAULT_MAX_WEEKLY_MUTED_MINUTES = 600
DEFAULT_MAX_MUTED_MINUTES_PER_30_DAYS = 15 * 24 * 60
SPAN_DAYS = 30
MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(name.lower() for name in calendar.month_name[1:])
# Without a year in any interval the pattern repeats every year: two years cover every 30-day span of it.
_REFERENCE_YEARS = (2026, 2027)


class Interval:
    """One time interval (Alertmanager's `time_intervals` entry, Grafana's mute-timing interval), normalised."""

    def __init__(
        self,
        times: list[tuple[int, int]],
        weekdays: list[str],
        days_of_month: list[str],
        months: list[str],
        years: list[str],
    ) -> None:
        self.times = times or [(0, MINUTES_PER_DAY)]  # no times: the whole day
        self.weekdays = {day for entry in weekdays for day in _range(entry, WEEKDAYS)} if weekdays else None
        self.days_of_month = days_of_month
        self.months = {month for entry in months for month in _range(entry, MONTHS)} if months else None
        self.years = {year for entry in years for year in _numbers(entry)} if years else None

    @property
    def recurs_weekly(self) -> bool:
        return not (self.days_of_month or self.months or self.years)

    def matches(self, day: date) -> bool:
        if self.weekdays is not None and WEEKDAYS[day.weekday()] not in self.weekdays:
            return False
        if self.months is not None and MONTHS[day.month - 1] not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.days_of_month:
            last = calendar.monthrange(day.year, day.month)[1]
            days = {
                (number if number > 0 else last + 1 + number)
                for entry in self.days_of_month
                for number in _numbers(entry)
            }
            if day.day not in days:
                return False
        return True


def _clock(text: Any) -> int:
    hours, minutes = str(text).split(":")
    return int(hours) * 60 + int(minutes)


def _range(entry: Any, names: tuple[str, ...]) -> list[str]:
    """`monday`, `monday:friday`, `1:3` (months by number) as the names they cover."""
    parts = [part.strip().lower() for part in str(entry).split(":")]
    indexes = [names.index(part) if part in names else int(part) - 1 for part in parts]
    return list(names[indexes[0] : indexes[-1] + 1])


def _numbers(entry: Any) -> list[int]:
    """`5`, `1:5` or `-3:-1` as the numbers they cover."""
    text = str(entry)
    if ":" in text[1:]:
        split = text.index(":", 1)
        first, last = int(text[:split]), int(text[split + 1 :])
        return list(range(first, last + 1))
    return [int(text)]


def interval_of(entry: Mapping[str, Any], start_key: str, end_key: str, days_key: str) -> Interval:
    times = [(_clock(t.get(start_key)), _clock(t.get(end_key))) for t in as_list(entry.get("times")) if is_mapping(t)]
    return Interval(
        times,
        [str(v) for v in as_list(entry.get("weekdays"))],
        [str(v) for v in as_list(entry.get(days_key))],
        [str(v) for v in as_list(entry.get("months"))],
        [str(v) for v in as_list(entry.get("years"))],
    )


def _muted_on(day: date, intervals: list[Interval]) -> int:
    """Minutes of `day` that any interval mutes (overlapping intervals counted once)."""
    ranges = sorted(time for interval in intervals if interval.matches(day) for time in interval.times)
    muted, reached = 0, 0
    for start, end in ranges:
        start = max(start, reached)
        if end > start:
            muted += end - start
            reached = end
    return muted


def muted_minutes(intervals: list[Interval]) -> tuple[int, int, date | None]:
    """(minutes the recurring intervals mute a week, most minutes muted in any 30 days, where that starts)."""
    recurring = [interval for interval in intervals if interval.recurs_weekly]
    monday = date(_REFERENCE_YEARS[0], 1, 5)
    weekly = sum(_muted_on(monday + timedelta(days=offset), recurring) for offset in range(7))
    years = sorted({year for interval in intervals for year in interval.years or ()}) or list(_REFERENCE_YEARS)
    first, last = date(years[0], 1, 1) - timedelta(days=SPAN_DAYS), date(years[-1], 12, 31) + timedelta(days=SPAN_DAYS)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    per_day = [_muted_on(day, intervals) for day in days]
    best, best_start, window = 0, None, sum(per_day[:SPAN_DAYS])
    for index in range(len(days) - SPAN_DAYS + 1):
        if index:
            window += per_day[index + SPAN_DAYS - 1] - per_day[index - 1]
        if window > best:
            best, best_start = window, days[index]
    return weekly, best, best_start


def _mute_timings(args: ResourceValidationArgs) -> Iterator[tuple[str, list[Interval]]]:
    """(what, intervals) of each mute timing the resource holds; nothing for one that cannot be read (the
    Alertmanager definition's own policies report that)."""
    try:
        if args.resource_type == GRAFANA_MUTE_TIMING:
            entries = [e for e in as_list(args.props.get("intervals")) if is_mapping(e)]
            name = args.props.get("name") or args.name
            yield f"Grafana mute timing '{name}'", [interval_of(e, "start", "end", "daysOfMonths") for e in entries]
            return
        definition = yaml.safe_load(args.props.get("definition") or "")
        inner = definition.get("alertmanager_config") if is_mapping(definition) else None
        config = yaml.safe_load(inner) if isinstance(inner, str) else None
        for timing in as_list(config.get("mute_time_intervals") if is_mapping(config) else None):
            if is_mapping(timing):
                entries = [e for e in as_list(timing.get("time_intervals")) if is_mapping(e)]
                yield (
                    f"Alertmanager mute_time_intervals '{timing.get('name')}'",
                    [interval_of(e, "start_time", "end_time", "days_of_month") for e in entries],
                )
    except (yaml.YAMLError, ValueError, TypeError, AttributeError):
        return


@validation_of(GRAFANA_MUTE_TIMING, ALERT_MANAGER_DEFINITION)
def maintenance_muted_time_bounded(args: ResourceValidationArgs) -> Iterator[str]:
    config = args.get_config()
    max_weekly = int(config.get("maxWeeklyMutedMinutes", DEFAULT_MAX_WEEKLY_MUTED_MINUTES))
    max_per_30_days = int(config.get("maxMutedMinutesPer30Days", DEFAULT_MAX_MUTED_MINUTES_PER_30_DAYS))
    for what, intervals in _mute_timings(args):
        weekly, busiest, start = muted_minutes(intervals)
        if weekly > max_weekly:
            yield (
                f"{what} mutes every notification (critical included) {weekly} minutes every week; at most "
                f"{max_weekly}. Fix: shorten monitoring:maintenance.weekly (a one-time job is a oneOff window)."
            )
        if busiest > max_per_30_days:
            yield (
                f"{what} mutes every notification {busiest} minutes in the 30 days from {start}; at most "
                f"{max_per_30_days}. Fix: spread or shorten monitoring:maintenance.oneOff (a longer break is a "
                "silence with an owner, not maintenance)."
            )


POLICIES = [
    ResourceValidationPolicy(
        name="maintenance-muted-time-bounded",
        description="Mute timings (Grafana, AMP's Alertmanager) mute at most 600 minutes a week recurring and "
        "15 days in any 30.",
        validate=maintenance_muted_time_bounded,
        config_schema=PolicyConfigSchema(
            properties={
                "maxWeeklyMutedMinutes": {"type": "integer", "default": DEFAULT_MAX_WEEKLY_MUTED_MINUTES},
                "maxMutedMinutesPer30Days": {"type": "integer", "default": DEFAULT_MAX_MUTED_MINUTES_PER_30_DAYS},
            }
        ),
    ),
]
