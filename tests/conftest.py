"""Shared fixtures: plans of the committed stacks, computed once per test session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from planner.engine import Plan, run_stack

STACKS = ("dev", "staging", "prod")
_PLANS: dict[str, Plan] = {}


def plan_of(stack: str) -> Plan:
    """The plan of a committed stack file, shared by every test (plans are read-only)."""
    if stack not in _PLANS:
        _PLANS[stack] = run_stack(stack)
    return _PLANS[stack]


@pytest.fixture(params=STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    return plan_of(request.param)


@pytest.fixture
def plan_with() -> Callable[..., Plan]:
    """Plan a stack with config overrides: {'monitoring:key': value or None to delete}."""

    def run(stack: str = "dev", overrides: dict[str, Any] | None = None, **kwargs: Any) -> Plan:
        return run_stack(stack, overrides=overrides, **kwargs)

    return run
