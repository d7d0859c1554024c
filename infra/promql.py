"""What a PromQL expression reads, found with a real parser (promql_parser).

One home for it: the tests that hold rules and dashboards to the metric
catalog, the collector's keep-lists and the traffic simulator all ask the
same question. Dashboard queries carry Grafana variables, which the parser
cannot read: `substitute_variables` gives them plain values first.
"""

from __future__ import annotations

import re
from typing import Any

import promql_parser

# Grafana replaces these before the query reaches AMP; the parser needs real values.
_GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
_TEMPLATE_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def substitute_variables(expr: str) -> str:
    for name, value in _GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    # Dashboard variables only appear inside label matchers' quoted values.
    return _TEMPLATE_VARIABLE.sub("x", expr)


def series_names(expr: str) -> set[str]:
    """Metric names of every selector in `expr`; raises ValueError if it does not parse."""
    tree = promql_parser.parse(substitute_variables(expr))
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name or next(
                (m.value for m in node.matchers.matchers if m.name == "__name__"),
                None,
            )
            if not name:
                raise ValueError(f"selector without a metric name in {expr!r}")
            names.add(name)

    promql_parser.walk(tree, visit)
    return names
