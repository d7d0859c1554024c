"""Whether a PromQL expression's result still carries a label: a static reading of Prometheus's label rules.

A family rule (one rule over every service) has no static `service` label: the
`service` of each alert is whatever the expression's result carries. This
follows the label through the expression as Prometheus's engine does
(promql/engine.go, `resultMetric` and the aggregations): a selector keeps every
label of its series (scraped series and our `by (service)` recordings carry
`service`); an aggregation keeps only its `by` labels; a one-to-one binary
operation with `on (...)` keeps only those labels, with `ignoring (...)` loses
those; `and`/`unless` keep the left side's; `or` keeps a label only if both
sides do; `group_left` keeps the left side's (`group_right` the right's) plus the labels it lists, taken from
the other side; a scalar side changes nothing.
"""

from __future__ import annotations

from typing import Any

import promql_parser

_SCALAR_FUNCTIONS = {"time", "scalar", "pi"}


def _is_scalar(node: Any) -> bool:
    if isinstance(node, promql_parser.NumberLiteral):
        return True
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _is_scalar(node.expr)
    if isinstance(node, promql_parser.BinaryExpr):
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    if isinstance(node, promql_parser.Call):
        return node.func.name in _SCALAR_FUNCTIONS
    return False


def keeps_label(node: Any, label: str) -> bool:
    """Whether every sample the expression `node` returns carries `label`."""
    if isinstance(node, promql_parser.VectorSelector):
        return True
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return keeps_label(node.expr, label)
    if isinstance(node, promql_parser.NumberLiteral | promql_parser.StringLiteral):
        return False
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        if modifier is None:
            return False
        listed = label in modifier.labels
        return listed if str(modifier.type).endswith("By") else not listed and keeps_label(node.expr, label)
    if isinstance(node, promql_parser.Call):
        name, args = node.func.name, list(node.args)
        if name == "absent":
            selector = args[0]
            return isinstance(selector, promql_parser.VectorSelector) and any(
                m.name == label and str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual")
                for m in selector.matchers.matchers
            )
        if name == "label_replace":
            return args[1].val == label or keeps_label(args[0], label)
        if name == "vector" or name in _SCALAR_FUNCTIONS:
            return False
        vectors = [arg for arg in args if isinstance(arg, promql_parser.Expr) and not _is_scalar(arg)]
        return bool(vectors) and all(keeps_label(arg, label) for arg in vectors if _returns_vector(arg))
    if isinstance(node, promql_parser.MatrixSelector):
        return True
    if isinstance(node, promql_parser.SubqueryExpr):
        return keeps_label(node.expr, label)
    if isinstance(node, promql_parser.BinaryExpr):
        op = str(node.op)
        if op == "or":
            return keeps_label(node.lhs, label) and keeps_label(node.rhs, label)
        if op in {"and", "unless"}:
            return keeps_label(node.lhs, label)
        if _is_scalar(node.rhs):
            return keeps_label(node.lhs, label)
        if _is_scalar(node.lhs):
            return keeps_label(node.rhs, label)
        binary = node.modifier
        card = str(binary.card) if binary is not None else "OneToOne"
        # group_left/group_right (labels): the many side's labels, with each listed label copied from the one
        # side, or removed where the one side lacks it (promql/engine.go, resultMetric with `Include`).
        copied = label in ((binary.group_labels or []) if binary is not None else [])
        if card.endswith("OneToMany"):
            return keeps_label(node.lhs if copied else node.rhs, label)
        if card.endswith("ManyToOne"):
            return keeps_label(node.rhs if copied else node.lhs, label)
        matching = binary.matching if binary is not None else None
        if matching is not None and str(matching.type).endswith("Include"):
            return label in matching.labels and keeps_label(node.lhs, label)
        if matching is not None and label in matching.labels:
            return False
        return keeps_label(node.lhs, label)
    raise TypeError(f"unknown PromQL node {type(node).__name__}: {node}")


def _returns_vector(node: Any) -> bool:
    return not isinstance(node, promql_parser.StringLiteral) and not _is_scalar(node)


def expression_keeps_label(expr: str, label: str) -> bool:
    return keeps_label(promql_parser.parse(expr), label)
