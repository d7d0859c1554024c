"""Which alerts a lab run at a time scale can show firing, and why the others cannot.

Two reasons make an alert untestable in a lab:

- it reads the wall clock through calendar functions (`hour()`,
  `day_of_week()`, ...: the business alert's trading hours): no time scale
  moves the market's opening hours, so the alert fires only when the real
  clock says so;
- its expression looks back further than the lab runs: the longest range
  plus offset, followed through the recording rules it reads (an SLO alert
  on `..._ratio_rate3d` looks back 3 days plus the 5-minute rate under it),
  plus its `for`, at the scale, exceeds `longest_seconds`. A week-over-week
  comparison needs a week of history; a 3-day burn-rate window cannot tell a
  burst from a slow burn in a few lab minutes.

promtool covers both kinds on made-up series (tests/promtool/).
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any, NamedTuple

import promql_parser

from infra.alerting.rule_model import Alert, Recording
from infra.alerting.rules import rule_namespaces
from infra.alerting.time_scale import (
    as_time_scale,
    duration_seconds,
    render_expr,
    scaled_duration,
)
from infra.config import StackInput

# Functions whose result depends on the calendar time of the sample.
CALENDAR_FUNCTIONS = frozenset(
    {"hour", "minute", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year"}
)


class Untestable(NamedTuple):
    """One alert rule (name, severity, service) that a lab at this scale cannot show firing, and why."""

    alert: str
    severity: str
    service: str | None
    reason: str


class Reach(NamedTuple):
    """How far back an expression reads (production seconds) and whether it reads the calendar."""

    lookback: Fraction
    calendar: bool


def _seconds(delta: timedelta | None) -> Fraction:
    if delta is None:
        return Fraction(0)
    return Fraction(delta.days * 86_400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def _readable(seconds: Fraction) -> str:
    """'1w5m' rather than '10085m': for people reading the reason."""
    parts, left = [], int(seconds)
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


def _merge(reaches: list[Reach]) -> Reach:
    return Reach(max((r.lookback for r in reaches), default=Fraction(0)), any(r.calendar for r in reaches))


def expression_reach(node: Any, records: dict[str, Reach]) -> Reach:
    """The reach of a parsed expression; `records` gives the reach of the recording rules it may read."""
    if isinstance(node, promql_parser.MatrixSelector):
        inner = expression_reach(node.vector_selector, records)
        return Reach(inner.lookback + _seconds(node.range), inner.calendar)
    if isinstance(node, promql_parser.VectorSelector):
        recorded = records.get(node.name or "", Reach(Fraction(0), False))
        return Reach(recorded.lookback + _seconds(node.offset), recorded.calendar)
    if isinstance(node, promql_parser.SubqueryExpr):
        inner = expression_reach(node.expr, records)
        return Reach(inner.lookback + _seconds(node.range) + _seconds(node.offset), inner.calendar)
    if isinstance(node, promql_parser.Call):
        reach = _merge([expression_reach(arg, records) for arg in node.args if isinstance(arg, promql_parser.Expr)])
        return Reach(reach.lookback, reach.calendar or node.func.name in CALENDAR_FUNCTIONS)
    if isinstance(node, promql_parser.BinaryExpr):
        return _merge([expression_reach(node.lhs, records), expression_reach(node.rhs, records)])
    if isinstance(node, promql_parser.AggregateExpr):
        parts = [node.expr] + ([node.param] if isinstance(node.param, promql_parser.Expr) else [])
        return _merge([expression_reach(part, records) for part in parts])
    if isinstance(node, promql_parser.UnaryExpr | promql_parser.ParenExpr):
        return expression_reach(node.expr, records)
    if isinstance(node, promql_parser.NumberLiteral | promql_parser.StringLiteral):
        return Reach(Fraction(0), False)
    raise TypeError(f"unknown PromQL node {type(node).__name__}: {node}")


def recording_reaches(settings: StackInput) -> dict[str, Reach]:
    """Reach of every recording rule of the stack, through the recordings it reads (production seconds)."""
    recordings: dict[str, list[str]] = {}
    for namespace in rule_namespaces(settings):
        for rule in namespace.rules:
            if isinstance(rule, Recording):
                recordings.setdefault(rule.record, []).append(render_expr(rule.expr))
    reaches: dict[str, Reach] = {}
    resolving: set[str] = set()

    def reach_of(record: str) -> Reach:
        if record not in reaches:
            if record in resolving:
                raise ValueError(f"recording rule {record} reads itself")
            resolving.add(record)
            # Only the recordings it actually reads count: resolve them first.
            names: set[str] = set()

            def visit(node: Any) -> bool:
                if isinstance(node, promql_parser.VectorSelector) and node.name in recordings:
                    names.add(node.name)
                return True

            trees = [promql_parser.parse(expr) for expr in recordings[record]]
            for tree in trees:
                promql_parser.walk(tree, visit)
            known = {name: reach_of(name) for name in names}
            reaches[record] = _merge([expression_reach(tree, known) for tree in trees])
        return reaches[record]

    for record in recordings:
        reach_of(record)
    return reaches


def lab_untestable(settings: StackInput, time_scale: Fraction | int, longest_seconds: float) -> list[Untestable]:
    """Alert rules a lab at `time_scale` that runs at most `longest_seconds` cannot show firing, with the reason.

    An alert is listed once per (name, severity, service); every other alert
    of the stack can fire in such a lab.
    """
    scale = as_time_scale(time_scale)
    records = recording_reaches(settings)
    found: dict[tuple[str, str, str | None], str] = {}
    for namespace in rule_namespaces(settings):
        for rule in namespace.rules:
            if not isinstance(rule, Alert):
                continue
            render_expr(rule.expr, scale)  # refuses a scale the rules cannot take
            scaled_duration(rule.for_, scale)
            reach = expression_reach(promql_parser.parse(render_expr(rule.expr)), records)
            key = (rule.name, rule.severity, rule.service)
            if reach.calendar:
                found.setdefault(
                    key,
                    "reads the wall clock (hour(), day_of_week(): trading hours in the market's time zone), "
                    "which no time scale compresses; promtool tests it",
                )
                continue
            wait = duration_seconds(rule.for_)
            needed = (reach.lookback + wait) * scale
            if needed > Fraction(longest_seconds):
                found.setdefault(
                    key,
                    f"looks back {_readable(reach.lookback)} (through its recording rules) and waits "
                    f"for {rule.for_}: {float(needed):g} s at time scale {scale}, longer than the lab's "
                    f"{longest_seconds:g} s; promtool tests it",
                )
    return [Untestable(name, severity, service, reason) for (name, severity, service), reason in found.items()]
