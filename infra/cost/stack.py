"""The model and bill of one stack, from its settings and the rule files rendered from them (as data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboards.context import DashboardContext
from dashboards.registry import build_all
from infra.config.model import StackInput
from infra.cost.model import Cardinality, cardinality


def stack_cardinality(settings: StackInput, rule_files: Mapping[str, Mapping[str, Any]]) -> Cardinality:
    # The same dashboards the Grafana component uploads (building them is pure and takes milliseconds).
    return cardinality(settings, rule_files, build_all(DashboardContext.from_settings(settings)))
