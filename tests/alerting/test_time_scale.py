"""One renderer, two clocks: production text is unchanged, and at 1/60 every time value is exactly 1/60 of it.

The proof walks the production and the scaled rendering side by side with
promql_parser, rule by rule: every range, subquery range and step and offset
must be scaled, every other node identical, and the only numbers that change
are the seconds on the alerting clock the builders mark. A planted bare
window and a planted bare seconds literal show the walk catches a miss.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from infra.alerting import rules
from infra.alerting.alertmanager import alertmanager_files, render_alertmanager_definition
from infra.alerting.rule_model import Alert, RuleGroup, RuleNamespace, sel
from infra.alerting.rules import render_rule_files, rule_namespaces
from infra.alerting.time_scale import (
    dur,
    marked_durations,
    render_expr,
    scaled_duration,
    scaled_seconds,
    secs,
)
from infra.collection.scrape_config import scrape_config_document
from infra.config.stackfile import REPO_ROOT, stack_settings
from lab.clock import lab_clock
from lab.scope import CALENDAR_FUNCTIONS, lab_untestable
from tests.conftest import STACKS, plan_of

GOLDEN = REPO_ROOT / "tests" / "golden" / "files"
LAB = Fraction(1, 60)
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
AM_TIMINGS = {"group_wait", "group_interval", "repeat_interval"}
# Numbers that look like seconds (whole minutes) but are not on the alerting clock.
UNSCALED_ON_PURPOSE = {60: "rate(...) * 60: per second to per minute, a unit of the threshold, not a clock"}


def _seconds(delta: timedelta | None) -> Fraction | None:
    if delta is None:
        return None
    return Fraction(delta.days * 86_400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def _duration(text: str | None) -> Fraction | None:
    if text is None:
        return None
    # promql_parser refuses a zero duration; Alertmanager's "0s" is one.
    return Fraction(0) if text in ("0", "0s") else _seconds(promql_parser.parse_duration(text))


class Walk:
    """Walks two parsed expressions in parallel; records which numbers changed and which stayed."""

    def __init__(self, scale: Fraction, where: str) -> None:
        self.scale, self.where = scale, where
        self.scaled_numbers: list[float] = []
        self.kept_numbers: list[float] = []
        self.calendar = False
        self.durations = 0

    def time(self, prod: timedelta | None, lab: timedelta | None, what: str) -> None:
        if prod is None:
            assert lab is None, f"{self.where}: {what} appeared"
            return
        self.durations += 1
        production, scaled = _seconds(prod), _seconds(lab)
        assert production is not None and scaled == production * self.scale, (
            f"{self.where}: {what} {prod} became {lab}, not {self.scale} of it"
        )

    def __call__(self, prod: Any, lab: Any) -> None:
        assert type(prod) is type(lab), f"{self.where}: {type(prod).__name__} vs {type(lab).__name__}"
        if isinstance(prod, promql_parser.MatrixSelector):
            self.time(prod.range, lab.range, "range")
            self(prod.vector_selector, lab.vector_selector)
        elif isinstance(prod, promql_parser.VectorSelector):
            assert (prod.name, str(prod.matchers)) == (lab.name, str(lab.matchers)), self.where
            self.time(prod.offset, lab.offset, "offset")
            assert prod.at is None and lab.at is None, f"{self.where}: @ modifiers are absolute times"
        elif isinstance(prod, promql_parser.SubqueryExpr):
            self.time(prod.range, lab.range, "subquery range")
            self.time(prod.step, lab.step, "subquery step")
            self.time(prod.offset, lab.offset, "subquery offset")
            self(prod.expr, lab.expr)
        elif isinstance(prod, promql_parser.Call):
            assert prod.func.name == lab.func.name and len(prod.args) == len(lab.args), self.where
            self.calendar |= prod.func.name in CALENDAR_FUNCTIONS
            for a, b in zip(prod.args, lab.args, strict=True):
                self(a, b)
        elif isinstance(prod, promql_parser.BinaryExpr):
            assert str(prod.op) == str(lab.op), self.where
            assert str(prod.modifier) == str(lab.modifier), self.where
            self(prod.lhs, lab.lhs)
            self(prod.rhs, lab.rhs)
        elif isinstance(prod, promql_parser.AggregateExpr):
            assert (str(prod.op), str(prod.modifier)) == (str(lab.op), str(lab.modifier)), self.where
            if prod.param is not None:
                self(prod.param, lab.param)
            self(prod.expr, lab.expr)
        elif isinstance(prod, promql_parser.UnaryExpr | promql_parser.ParenExpr):
            self(prod.expr, lab.expr)
        elif isinstance(prod, promql_parser.NumberLiteral):
            if prod.val == lab.val:
                self.kept_numbers.append(prod.val)
            else:
                assert Fraction(lab.val) == Fraction(prod.val) * self.scale, (
                    f"{self.where}: number {prod.val} became {lab.val}, not {self.scale} of it"
                )
                self.scaled_numbers.append(prod.val)
        elif isinstance(prod, promql_parser.StringLiteral):
            assert prod.val == lab.val, self.where
        else:
            raise AssertionError(f"{self.where}: unexpected node {type(prod).__name__}")


def _rules(text: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(group, rule) for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def walk_rule_files(production: Mapping[str, str], scaled: Mapping[str, str], scale: Fraction) -> list[Walk]:
    """Asserts the scaled files are the production files with every time value times `scale`."""
    assert list(production) == list(scaled)
    walks = []
    for namespace in production:
        prod_rules, lab_rules = _rules(production[namespace]), _rules(scaled[namespace])
        assert len(prod_rules) == len(lab_rules), namespace
        for (prod_group, prod), (lab_group, lab) in zip(prod_rules, lab_rules, strict=True):
            name = prod.get("alert") or prod["record"]
            where = f"{namespace}/{name}"
            assert _duration(lab_group["interval"]) == _duration(prod_group["interval"]) * scale, where  # type: ignore[operator]
            assert set(prod) == set(lab), where
            if "for" in prod:
                assert _duration(lab["for"]) == _duration(prod["for"]) * scale, where  # type: ignore[operator]
            assert {k: v for k, v in prod.items() if k not in ("expr", "for")} == {
                k: v for k, v in lab.items() if k not in ("expr", "for")
            }, where
            walk = Walk(scale, where)
            walk(promql_parser.parse(prod["expr"]), promql_parser.parse(lab["expr"]))
            walks.append(walk)
    return walks


def suspicious_kept_numbers(walks: list[Walk]) -> list[tuple[str, float]]:
    """Unscaled whole minutes outside wall-clock rules: a seconds literal someone forgot to mark with secs()."""
    return [
        (walk.where, number)
        for walk in walks
        if not walk.calendar
        for number in walk.kept_numbers
        if number >= 60 and number % 60 == 0 and number not in UNSCALED_ON_PURPOSE
    ]


# --- production is unchanged -------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("scale", [None, Fraction(1), 1])
def test_production_scale_renders_the_committed_golden_rule_files(stack: str, scale: Fraction | int | None) -> None:
    settings = stack_settings(stack)
    files = render_rule_files(settings) if scale is None else render_rule_files(settings, scale)
    golden = {path.stem: path.read_text() for path in sorted((GOLDEN / "rules" / stack).glob("*.yaml"))}
    assert files == golden


@pytest.mark.parametrize("stack", STACKS)
def test_production_scale_renders_the_committed_golden_alertmanager_definition(stack: str) -> None:
    arns = plan_of(stack).outputs["alert_topic_arns"]
    golden = (GOLDEN / "alertmanager" / f"{stack}.yaml").read_text()
    assert render_alertmanager_definition(stack_settings(stack), arns, Fraction(1)) == golden
    assert render_alertmanager_definition(stack_settings(stack), arns) == golden


# --- at 1/60 every time value is 1/60 ------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_at_one_sixtieth_every_for_range_offset_and_interval_is_one_sixtieth(stack: str) -> None:
    settings = stack_settings(stack)
    walks = walk_rule_files(render_rule_files(settings), render_rule_files(settings, LAB), LAB)
    # Every window and offset the parser finds is one a builder marked with dur(), and the other way round.
    marked = sum(
        len(marked_durations(rule.expr)) for namespace in rule_namespaces(settings) for rule in namespace.rules
    )
    assert sum(walk.durations for walk in walks) == marked > 40
    assert suspicious_kept_numbers(walks) == []
    scaled = {(walk.where.split("/")[1], number) for walk in walks for number in walk.scaled_numbers}
    # The only numbers on the alerting clock: the disk-fill horizon, the remote-write lag, the replication lag,
    # how late a CronJob may be.
    expected = {
        ("NodeDiskFillingUp", 3600.0),
        ("KubeCronJobNotScheduled", float(settings.kubernetes.cron_job_late_minutes * 60)),
        ("CollectorRemoteWriteBehind", 120.0),
        ("PostgresReplicationLag", float(settings.thresholds.replication_lag_seconds)),
    }
    present = {walk.where.split("/")[1] for walk in walks}
    assert scaled == {(name, value) for name, value in expected if name in present}


def test_the_walk_catches_a_bare_window_and_a_bare_seconds_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = stack_settings("dev")

    def walks_of(expr: str) -> list[Walk]:
        # The renderer, with the stack's builders replaced by one that plants this alert alone.
        alert = Alert("PlantedDefect", expr, "5m", "warning", "api", "A planted defect.", "{{ $value }}")
        namespace = RuleNamespace("planted", (RuleGroup("planted", (alert,)),))
        monkeypatch.setattr(rules, "BUILDERS", (lambda _: (namespace,),))
        return walk_rule_files(render_rule_files(settings), render_rule_files(settings, LAB), LAB)

    up = sel("up", service="api")
    with pytest.raises(AssertionError, match=r"range 0:05:00 became 0:05:00"):
        walks_of(f"rate({up}[5m]) > 0 and rate({up}[{dur('1h')}]) > 0")
    assert suspicious_kept_numbers(walks_of(f"predict_linear({up}[{dur('6h')}], 4 * 3600) < 0")) == [
        ("planted/PlantedDefect", 3600.0)
    ]
    marked = walks_of(f"predict_linear({up}[{dur('6h')}], 4 * {secs(3600)}) < 0")
    assert suspicious_kept_numbers(marked) == [] and marked[0].scaled_numbers == [3600.0]


@pytest.mark.parametrize("stack", STACKS)
def test_at_one_sixtieth_every_alertmanager_timing_is_one_sixtieth(stack: str) -> None:
    settings, arns = stack_settings(stack), plan_of(stack).outputs["alert_topic_arns"]
    production = alertmanager_files(render_alertmanager_definition(settings, arns))
    scaled = alertmanager_files(render_alertmanager_definition(settings, arns, LAB))
    assert {k: v for k, v in production.items() if k != "alertmanager.yml"} == {
        k: v for k, v in scaled.items() if k != "alertmanager.yml"
    }
    seen: list[str] = []

    def compare(prod: Any, lab: Any, path: str) -> None:
        if isinstance(prod, dict):
            assert set(prod) == set(lab), path
            for key in prod:
                if key in AM_TIMINGS:
                    assert _duration(lab[key]) == _duration(prod[key]) * LAB, f"{path}.{key}"  # type: ignore[operator]
                    seen.append(f"{path}.{key}")
                else:
                    compare(prod[key], lab[key], f"{path}.{key}")
        elif isinstance(prod, list):
            assert len(prod) == len(lab), path
            for i, (a, b) in enumerate(zip(prod, lab, strict=True)):
                compare(a, b, f"{path}[{i}]")
        else:
            assert prod == lab, path

    compare(yaml.safe_load(production["alertmanager.yml"]), yaml.safe_load(scaled["alertmanager.yml"]), "")
    # The root's three and the Watchdog route's three; the severity routes inherit the root's.
    assert sorted(seen) == sorted(
        [f".route.{key}" for key in AM_TIMINGS] + [f".route.routes[0].{key}" for key in AM_TIMINGS]
    )
    route = yaml.safe_load(scaled["alertmanager.yml"])["route"]
    assert (route["group_wait"], route["routes"][0]["group_interval"]) == (
        scaled_duration(f"{settings.notifications.group_wait_seconds}s", LAB),
        "1s",
    )


# --- the real tools accept the scaled files ---------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "window"),
    # 1/120 makes the 5-minute rates 2.5 s: Prometheus must take millisecond windows.
    [(Fraction(1, 60), "[5s]"), (Fraction(1, 120), "[2500ms]")],
)
def test_scaled_rule_files_pass_promtool_check_rules(tmp_path: Path, scale: Fraction, window: str) -> None:
    paths = []
    for stack in STACKS:
        (tmp_path / stack).mkdir()
        for namespace, text in render_rule_files(stack_settings(stack), scale).items():
            path = tmp_path / stack / f"{namespace}.yaml"
            path.write_text(text)
            paths.append(str(path))
    result = subprocess.run(
        [PROMTOOL, "check", "rules", *paths], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert window in (tmp_path / "dev" / "api.yaml").read_text()


@pytest.mark.parametrize("stack", STACKS)
def test_scaled_alertmanager_config_passes_amtool_check_config(tmp_path: Path, stack: str) -> None:
    definition = render_alertmanager_definition(stack_settings(stack), plan_of(stack).outputs["alert_topic_arns"], LAB)
    for name, content in alertmanager_files(definition).items():
        (tmp_path / name).write_text(content)
    result = subprocess.run(
        [AMTOOL, "check-config", str(tmp_path / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "500ms" in (tmp_path / "alertmanager.yml").read_text()  # dev/staging/prod group_wait 30s at 1/60


# --- durations and bad scales ----------------------------------------------------------------


def test_durations_keep_their_unit_where_whole_and_go_down_to_milliseconds() -> None:
    assert [scaled_duration(d, 1) for d in ("120s", "5m", "1w", "0s", "0")] == ["120s", "5m", "1w", "0s", "0"]
    assert [scaled_duration(d, LAB) for d in ("120s", "5m", "1w", "3d", "30s", "1h")] == [
        "2s",
        "5s",
        "168m",
        "72m",
        "500ms",
        "1m",
    ]
    assert render_expr(f"x[{dur('90s')}] offset {dur('1h')} > {secs(30)}", LAB) == "x[1500ms] offset 1m > 0.5"
    assert marked_durations(f"x[{dur('90s')}] offset {dur('1h')} > {secs(30)}") == ["90s", "1h"]


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (Fraction(1, 7), r"time scale 1/7 turns .* not a whole number of milliseconds"),
        (Fraction(1, 1_000_000), r"not a whole number of milliseconds"),
        (Fraction(0), r"must be positive"),
        (Fraction(-1, 60), r"must be positive"),
        (1 / 60, r"must be an exact Fraction or int"),
    ],
)
def test_a_scale_that_cannot_be_rendered_exactly_is_refused(scale: Any, message: str) -> None:
    settings = stack_settings("dev")
    with pytest.raises(ValueError, match=message):
        render_rule_files(settings, scale)
    with pytest.raises(ValueError, match=message):
        render_alertmanager_definition(settings, plan_of("dev").outputs["alert_topic_arns"], scale)


def test_sub_millisecond_values_are_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match=r"turns '5m' of 300 s into 0.0005 s"):
        scaled_duration("5m", Fraction(1, 600_000))
    with pytest.raises(ValueError, match="whole, non-negative number of seconds"):
        secs(-1)
    with pytest.raises(ValueError, match="not a single-unit Prometheus duration"):
        dur("1h30m")
    assert scaled_seconds(30, Fraction(1, 60)) == Fraction(1, 2)


# --- the lab's clock ------------------------------------------------------------------------------


def test_lab_clock_is_the_stack_clock_at_the_scale() -> None:
    settings = stack_settings("dev")
    production = lab_clock(settings, 1)
    assert production.prometheus_global == scrape_config_document(settings, None)["global"] | {
        "evaluation_interval": f"{settings.rules.evaluation_interval_seconds}s"
    }
    clock = lab_clock(settings, LAB)
    assert (settings.collection.scrape_interval_seconds, settings.rules.evaluation_interval_seconds) == (60, 60)
    assert clock.prometheus_global == {
        "scrape_interval": "1s",
        "scrape_timeout": "166ms",
        "evaluation_interval": "1s",
    }
    assert clock.prometheus_flags == ["--query.lookback-delta=5s", "--rules.alert.resend-delay=1s"]
    assert (clock.group_wait, clock.group_interval, clock.repeat_interval) == ("500ms", "5s", "12m")
    route = yaml.safe_load(
        alertmanager_files(render_alertmanager_definition(settings, plan_of("dev").outputs["alert_topic_arns"], LAB))[
            "alertmanager.yml"
        ]
    )["route"]
    assert [route[k] for k in ("group_wait", "group_interval", "repeat_interval")] == [
        clock.group_wait,
        clock.group_interval,
        clock.repeat_interval,
    ]
    # What the rule files say matches the clock the lab runs Prometheus with.
    assert all(
        f"  interval: {clock.evaluation_interval}\n" in text for text in render_rule_files(settings, LAB).values()
    )


# --- what a lab cannot show -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_untestable_alerts_are_the_wall_clock_and_the_long_window_ones(stack: str) -> None:
    settings = stack_settings(stack)
    untestable = lab_untestable(settings, LAB, longest_seconds=600)
    assert sorted((u.alert, u.severity) for u in untestable) == [
        ("ApiAvailabilityBudgetBurn", "warning"),  # 3-day ticket window: 72 lab minutes
        ("ApiLatencyBudgetBurn", "warning"),
        ("ApiLatencyDegraded", "warning"),  # same time last week: 168 lab minutes back
        ("ApiTrafficDropped", "warning"),
        ("ScreeningRequestsStalled", "warning"),  # trading hours on the wall clock
    ]
    reasons = {u.alert: u.reason for u in untestable}
    assert "wall clock" in reasons["ScreeningRequestsStalled"]
    assert (
        "looks back 3d5m" in reasons["ApiAvailabilityBudgetBurn"] and "4340 s" in reasons["ApiAvailabilityBudgetBurn"]
    )
    assert "looks back 1w5m" in reasons["ApiLatencyDegraded"]


def test_untestable_depends_on_how_long_the_lab_runs() -> None:
    settings = stack_settings("dev")
    # The page-level burn rate (6 h window, 5 m rate, 2 m for: 367 s at 1/60) fits a 10-minute lab, not a 5-minute one.
    short = {(u.alert, u.severity) for u in lab_untestable(settings, LAB, longest_seconds=300)}
    assert ("ApiAvailabilityBudgetBurn", "critical") in short
    assert ("ApiAvailabilityBudgetBurn", "critical") not in {
        (u.alert, u.severity) for u in lab_untestable(settings, LAB, longest_seconds=367)
    }
    # Given all the time in the world, only the wall clock stays out of reach.
    assert [u.alert for u in lab_untestable(settings, LAB, longest_seconds=10**9)] == ["ScreeningRequestsStalled"]
    with pytest.raises(ValueError, match="not a whole number of milliseconds"):
        lab_untestable(settings, Fraction(1, 7), longest_seconds=600)
