"""The maintenance windows as a Grafana mute timing's intervals (in the stack's time zone)."""

from __future__ import annotations

import pulumiverse_grafana as grafana

from infra.alerting.maintenance import local_intervals
from infra.config.maintenance import MaintenanceSpec


def mute_timing_intervals(spec: MaintenanceSpec) -> list[grafana.alerting.MuteTimingIntervalArgs]:
    """One Grafana interval per window piece; Grafana applies `location`, so the times stay as written."""
    return [
        grafana.alerting.MuteTimingIntervalArgs(
            times=[grafana.alerting.MuteTimingIntervalTimeArgs(start=interval.start_time, end=interval.end_time)],
            weekdays=list(interval.weekdays) or None,
            days_of_months=list(interval.days_of_month) or None,
            months=list(interval.months) or None,
            years=list(interval.years) or None,
            location=spec.time_zone,
        )
        for interval in local_intervals(spec)
    ]
