"""The model's one-pass selector traversal meets the same selectors, in the same order, as promql_parser.walk."""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest

from infra.alerting.rules import render_rule_files
from infra.config.stackfile import stack_settings
from infra.cost.model import _selectors

EDGE_CASES = [
    'topk(scalar(k{service="a"}), rate(x{service="b"}[5m]))',
    'sum by (service) (rate(y_bucket{le="0.5"}[5m:1m])) / on(service) -z{service="c"}',
    "histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))",
    "vector(1)",
]


def _walked(tree: Any) -> list[str]:
    found: list[str] = []
    promql_parser.walk(
        tree, lambda node: found.append(str(node)) if isinstance(node, promql_parser.VectorSelector) else None
    )
    return found


@pytest.mark.parametrize("expr", EDGE_CASES)
def test_selectors_follow_walk_order_on_edge_cases(expr: str) -> None:
    tree = promql_parser.parse(expr)
    assert [str(s) for s in _selectors(tree)] == _walked(tree)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_selectors_follow_walk_order_on_every_rule(stack: str) -> None:
    count = 0
    for document in render_rule_files(stack_settings(stack)).documents.values():
        for group in document["groups"]:
            for rule in group["rules"]:
                tree = promql_parser.parse(rule["expr"])
                assert [str(s) for s in _selectors(tree)] == _walked(tree), rule["expr"]
                count += 1
    assert count > 0
