"""Time scale: the same rules and routes on the production clock or on a faster one.

A time scale is an exact fraction: scaled seconds per production second.
Production renders at `PRODUCTION` (1) and its text is exactly what the
builders wrote; a local run renders at, say, 1/60 (a minute becomes a second).

What scales (every value on the alerting clock):
- alert `for`, rule-group `interval`, range windows, subquery ranges and
  steps and `offset`s in expressions: builders write them with `dur("5m")`;
- numbers in expressions that are seconds of that clock: a prediction
  horizon (`predict_linear`), the age of data (replication lag,
  remote-write lag): builders write them with `secs(120)`;
- Alertmanager's group_wait, group_interval and repeat_interval;
- Prometheus's own clock: scrape and evaluation intervals, lookback delta,
  alert resend delay (set by whoever runs Prometheus at a scale).

What does not, on purpose:
- rates stay per second and counts stay counts: traffic is served at
  real per-second rates, so a threshold on a rate (requests/s, slow queries
  per minute as `rate * 60`) keeps its value, and a count over a window
  (`increase(x[1h]) > N`) means N events within the scaled window;
- request latency and other measured values that are not ages of data;
- the wall clock: trading hours (`hour()`, `day_of_week()` on `time()` in
  the market's time zone) cannot be compressed; promtool tests such alerts
  on made-up series instead;
- names: recording rules keep their production window in their name
  (`..._rate1h` records a one-minute window at 1/60);
- human text (summaries, descriptions) keeps production wording.

Every scaled value must be a whole number of milliseconds (the finest unit
Prometheus and Alertmanager durations have); a scale that breaks one is
refused with a ValueError rather than rounded.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from fractions import Fraction

PRODUCTION = Fraction(1)

# Prometheus duration units, largest first, in milliseconds.
_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
)
_UNIT_MS = dict(_UNITS)
_DURATION = re.compile(r"^(0|[0-9]+(ms|[smhdw]))$")

# Markers that builders put into expressions and the renderer fills at its
# scale. Characters PromQL never uses, so a marker can't be mistaken for
# anything else, and a marker left unrendered makes the expression invalid.
_OPEN, _CLOSE = "\u27e6", "\u27e7"
_SECONDS_TAG = "="
_MARKER = re.compile(f"{_OPEN}({_SECONDS_TAG}?)([^{_CLOSE}]*){_CLOSE}")


def as_time_scale(time_scale: Fraction | int) -> Fraction:
    """The scale as an exact positive fraction; floats are refused (0.1 is not 1/10)."""
    # A Fraction is immutable, so a valid one is its own answer: the renderer asks for every value it scales.
    if type(time_scale) is Fraction and time_scale.numerator > 0:
        return time_scale
    if isinstance(time_scale, bool) or not isinstance(time_scale, Fraction | int):
        raise ValueError(
            f"time scale {time_scale!r} must be an exact Fraction or int (e.g. Fraction(1, 60)), "
            f"not {type(time_scale).__name__}"
        )
    scale = Fraction(time_scale)
    if scale <= 0:
        raise ValueError(f"time scale {scale} must be positive (1 = production, 1/60 = a minute per second)")
    return scale


def _check_duration(text: str) -> None:
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a single-unit Prometheus duration (e.g. 5m, 30s, 250ms, 0)")


def duration_seconds(text: str) -> Fraction:
    """Seconds of a single-unit Prometheus duration ('5m', '250ms', '0')."""
    _check_duration(text)
    if text == "0":
        return Fraction(0)
    unit = "ms" if text.endswith("ms") else text[-1]
    return Fraction(int(text[: -len(unit)]) * _UNIT_MS[unit], 1000)


def scaled_seconds(seconds: Fraction | int, time_scale: Fraction | int, what: str = "a duration") -> Fraction:
    """`seconds` of production time at `time_scale`, exactly; refused unless a whole number of milliseconds."""
    scale = as_time_scale(time_scale)
    scaled = Fraction(seconds) * scale
    if (scaled * 1000).denominator != 1:
        raise ValueError(
            f"time scale {scale} turns {what} of {seconds} s into {float(scaled)!r} s, which is not a whole "
            f"number of milliseconds (the finest unit Prometheus and Alertmanager read); choose a scale "
            f"such as 1/10, 1/30 or 1/60"
        )
    return scaled


def format_duration(seconds: Fraction, unit: str | None = None) -> str:
    """Prometheus duration text: in `unit` when whole in it, else in the largest unit that is."""
    millis = seconds * 1000
    if millis.denominator != 1 or millis < 0:
        raise ValueError(f"{float(seconds)!r} s is not a whole, non-negative number of milliseconds")
    whole = int(millis)
    if whole == 0:
        return "0s"
    if unit is not None and whole % _UNIT_MS[unit] == 0:
        return f"{whole // _UNIT_MS[unit]}{unit}"
    for name, size in _UNITS:
        if whole % size == 0:
            return f"{whole // size}{name}"
    raise AssertionError("unreachable: every whole number of milliseconds is whole in ms")


def scaled_duration(duration: str | int | Fraction, time_scale: Fraction | int) -> str:
    """A duration (text like '5m', or seconds) at `time_scale`, as Prometheus and Alertmanager read it.

    Text keeps its unit where the scaled value is whole in it, so that at
    scale 1 the text is exactly what was written ('120s' stays '120s').
    """
    if isinstance(duration, str):
        scale = as_time_scale(time_scale)
        return _scaled_duration_text(duration, scale.numerator, scale.denominator)
    return format_duration(scaled_seconds(Fraction(duration), time_scale), None)


# Builders write the same few durations thousands of times (every `for` and window of every service):
# each (text, scale) is worked out once. The scale is keyed by its two ints, which hash faster than a Fraction.
@functools.cache
def _scaled_duration_text(duration: str, numerator: int, denominator: int) -> str:
    seconds = duration_seconds(duration)
    if seconds == 0:
        return duration
    unit = "ms" if duration.endswith("ms") else duration[-1]
    return format_duration(scaled_seconds(seconds, Fraction(numerator, denominator), f"'{duration}'"), unit)


def format_seconds_number(seconds: Fraction) -> str:
    """A number of seconds as a PromQL literal: '60', '0.5', never float noise."""
    if seconds.denominator == 1:
        return str(seconds.numerator)
    return format(Decimal(seconds.numerator) / Decimal(seconds.denominator), "f")


# --- markers in expressions ---------------------------------------------------------


def dur(duration: str) -> str:
    """A range, subquery or offset duration in an expression, e.g. f"rate(x[{dur('5m')}])"; scales with the renderer."""
    _check_duration(duration)  # refuse a malformed duration where it is written
    return f"{_OPEN}{duration}{_CLOSE}"


def secs(seconds: int) -> str:
    """A number in an expression that is seconds on the alerting clock (a horizon, an age of data); scales."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"secs() takes a whole, non-negative number of seconds, not {seconds!r}")
    return f"{_OPEN}{_SECONDS_TAG}{seconds}{_CLOSE}"


def marked_durations(expr: str) -> list[str]:
    """The durations marked with `dur()` in an expression, in order (not the `secs()` numbers)."""
    return [value for tag, value in _MARKER.findall(expr) if not tag]


def render_expr(expr: str, time_scale: Fraction | int = PRODUCTION) -> str:
    """The PromQL text of an expression template at `time_scale`."""
    scale = as_time_scale(time_scale)
    numerator, denominator = scale.numerator, scale.denominator

    def fill(match: re.Match[str]) -> str:
        return _filled_marker(match.group(1), match.group(2), numerator, denominator)

    text = _MARKER.sub(fill, expr) if _OPEN in expr else expr
    if _OPEN in text or _CLOSE in text:
        raise ValueError(f"unbalanced time marker in expression {expr!r}")
    return text


# A marker's text at a scale, once per (marker, scale): every service's rules repeat the same few.
@functools.cache
def _filled_marker(tag: str, value: str, numerator: int, denominator: int) -> str:
    scale = Fraction(numerator, denominator)
    if tag:
        return format_seconds_number(scaled_seconds(int(value), scale, f"the number {value}"))
    return _scaled_duration_text(value, numerator, denominator)
