"""The stack's Prometheus and Alertmanager clock at the lab's time scale.

The rules and routes themselves are rendered at a scale by the program's own
renderers (`infra.alerting.time_scale`); this adds what only a locally run
Prometheus needs: its scrape and evaluation intervals, lookback delta and
alert resend delay, on the same scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from infra.alerting.time_scale import as_time_scale, format_duration, scaled_duration
from infra.collection.scrape_config import SCRAPE_TIMEOUT_SECONDS
from infra.config import StackInput

# Prometheus's own time constants that the rules rely on (defaults, as AMP runs them):
# a series without a staleness marker stays visible this long, and a firing
# alert is re-sent to Alertmanager this often.
PROMETHEUS_LOOKBACK_DELTA_SECONDS = 300
PROMETHEUS_RESEND_DELAY_SECONDS = 60


@dataclass(frozen=True)
class LabClock:
    """Prometheus and Alertmanager timings of a stack at a time scale, as Prometheus duration text.

    The Alertmanager ones are the root route's, as `render_alertmanager_definition` renders them.
    """

    time_scale: Fraction
    scrape_interval: str
    scrape_timeout: str
    evaluation_interval: str
    lookback_delta: str
    resend_delay: str
    group_wait: str
    group_interval: str
    repeat_interval: str

    @property
    def prometheus_global(self) -> dict[str, str]:
        """The `global:` section of a prometheus.yml."""
        return {
            "scrape_interval": self.scrape_interval,
            "scrape_timeout": self.scrape_timeout,
            "evaluation_interval": self.evaluation_interval,
        }

    @property
    def prometheus_flags(self) -> list[str]:
        """Command-line flags that put Prometheus's built-in clock on the same scale."""
        return [f"--query.lookback-delta={self.lookback_delta}", f"--rules.alert.resend-delay={self.resend_delay}"]


def lab_clock(settings: StackInput, time_scale: Fraction | int) -> LabClock:
    """The stack's scrape, evaluation and notification timings at `time_scale` (production values at 1)."""
    scale = as_time_scale(time_scale)
    scrape = settings.collection.scrape_interval_seconds
    # A timeout is a bound, not a window: round it down to a whole millisecond rather than refuse the scale.
    timeout_ms = max(1, int(Fraction(min(scrape, SCRAPE_TIMEOUT_SECONDS)) * scale * 1000))
    return LabClock(
        time_scale=scale,
        scrape_interval=scaled_duration(f"{scrape}s", scale),
        scrape_timeout=format_duration(Fraction(timeout_ms, 1000)),
        evaluation_interval=scaled_duration(f"{settings.rules.evaluation_interval_seconds}s", scale),
        lookback_delta=scaled_duration(f"{PROMETHEUS_LOOKBACK_DELTA_SECONDS}s", scale),
        resend_delay=scaled_duration(f"{PROMETHEUS_RESEND_DELAY_SECONDS}s", scale),
        group_wait=scaled_duration(f"{settings.notifications.group_wait_seconds}s", scale),
        group_interval=scaled_duration(f"{settings.notifications.group_interval_minutes}m", scale),
        repeat_interval=scaled_duration(f"{settings.notifications.repeat_interval_hours}h", scale),
    )
