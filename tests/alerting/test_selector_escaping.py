"""The one selector builder escapes every label value, whatever the stack file let through.

Checked by parsing the result with promql_parser (the Rust port of Prometheus'
parser): the selector must hold exactly one matcher per label, whose decoded
value is exactly the value given. PromQL string literals follow Go's escapes
(prometheus/prometheus promql/parser/lex.go, lexString: `\\`, `\"`, `\n`, ...).
"""

from __future__ import annotations

import promql_parser
import pytest
import re2

from dashboards.context import DashboardContext
from dashboards.uptime import checks_selector
from infra.alerting.rule_model import le_matcher, matchers, one_of, regex_literal, sel
from infra.alerting.uptime_rules import failing_share_expr, job_selector
from infra.components.synthetics_checks import CheckSpec
from infra.config.stackfile import stack_settings

HOSTILE = (
    '",x="',
    '/health",endpoint="none',
    'quote " inside',
    "back\\slash",
    "trailing backslash\\",
    "new\nline",
    "tab\tand\rreturn",
    "}} or vector(1) {{",
    "{{ $labels.x }}",
    "unicode ✓ and 'single' quotes",
    "",
)


def _selector_matchers(expr: str) -> list[tuple[str, str, str]]:
    node = promql_parser.parse(expr)
    assert isinstance(node, promql_parser.VectorSelector), expr
    return [(m.name, str(m.op), m.value) for m in node.matchers.matchers]


@pytest.mark.parametrize("value", HOSTILE)
def test_equality_value_round_trips_as_one_matcher(value: str) -> None:
    expr = sel("http_requests_total", service="api", endpoint=value)
    assert _selector_matchers(expr) == [
        ("service", str(promql_parser.MatchOp.Equal), "api"),
        ("endpoint", str(promql_parser.MatchOp.Equal), value),
    ]


@pytest.mark.parametrize("value", HOSTILE)
def test_negative_and_regex_values_round_trip(value: str) -> None:
    regex = regex_literal(value)
    expr = sel("up", a=f"!{value}", b=f"~{regex}", c=f"!~{regex}")
    assert [(name, found) for name, _, found in _selector_matchers(expr)] == [("a", value), ("b", regex), ("c", regex)]


@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_one_of_matches_each_value_literally_and_nothing_else(value: str) -> None:
    expr = sel("up", job=one_of([value, "api"]))
    ((_, _, regex),) = _selector_matchers(expr)
    # Prometheus anchors label regexes (^(?:...)$) and runs them with RE2 (Go's regexp).
    pattern = re2.compile(f"^(?:{regex})$")
    assert pattern.match(value) and pattern.match("api")
    assert not pattern.match(value + "x") and not pattern.match("apix")


def test_latency_bucket_regex_survives_escaping_as_one_backslash() -> None:
    ((_, _, regex),) = _selector_matchers(sel("x", le=le_matcher(1000)))
    assert regex == r"1(\.0)?"


def test_a_label_name_is_never_escaped_but_refused() -> None:
    with pytest.raises(ValueError, match="is not a label name"):
        matchers(**{'a",b': "x"})


def test_synthetic_check_alert_selector_goes_through_the_builder() -> None:
    checks = [CheckSpec("api", 'he"alth', "https://api.example.com/")]
    expr = failing_share_expr(job_selector(checks, "screener-dev"), 120)
    promql_parser.parse(expr)
    assert 'job=~"screener-dev-api-he\\"alth"' in expr


def test_uptime_dashboard_selector_escapes_the_prefix() -> None:
    ctx = DashboardContext.from_settings(stack_settings("dev"))
    selector = checks_selector(ctx)
    node = promql_parser.parse(f"probe_success{{{selector}}}")
    assert isinstance(node, promql_parser.VectorSelector)
    assert [m.value for m in node.matchers.matchers] == ["screener-dev-.+"]
