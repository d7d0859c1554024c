"""The model parses each rule-expression shape once and reads every expression's own quoted values back.

Rule files repeat one expression per service with only the quoted label values changed; the
model shares the parsed tree of a shape. These tests hold it to parsing every expression itself.
"""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest

from infra.alerting.rules import render_rule_files
from infra.config.stackfile import stack_settings
from infra.cost import model
from infra.cost.model import _ParsedRules, cardinality
from infra.cost.stack import stack_cardinality
from tests.cost.helpers import small_catalog


def _parse_each(self: _ParsedRules, expr: str) -> tuple[Any, tuple[str, ...]]:
    return self._shape(promql_parser.parse(expr)), ()


# The stacks with several services of a kind (dev's catalog shares no shape between services).
@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_model_of_a_stack_equals_the_model_that_parses_each_expression(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = stack_settings(stack)
    rule_files = render_rule_files(settings).documents
    shared = stack_cardinality(settings, rule_files)
    monkeypatch.setattr(model._ParsedRules, "parse", _parse_each)
    assert stack_cardinality(settings, rule_files) == shared


def test_two_services_rules_of_one_shape_count_each_services_own_series() -> None:
    """api has http_requests_total series (two targets), redis none: same shape, different counts."""
    rules = [
        {"alert": f"Busy{service}", "expr": f'rate(http_requests_total{{service="{service}"}}[5m]) > 1'}
        for service in ("api", "redis")
    ]
    files = {"x": {"groups": [{"name": "x", "interval": "1m", "rules": rules}]}}
    api, redis = cardinality(small_catalog(), files, {}).rules
    assert (api.service, redis.service) == ("api", "redis")
    assert api.samples_per_evaluation > 0
    assert redis.samples_per_evaluation == 0
