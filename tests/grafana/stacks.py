"""The dashboards' context of a committed stack, built without running the program (dashboards are pure)."""

from __future__ import annotations

from dashboards.context import DashboardContext
from planner.stackfile import stack_settings


def context_of(stack: str) -> DashboardContext:
    return DashboardContext.from_settings(stack_settings(stack))
