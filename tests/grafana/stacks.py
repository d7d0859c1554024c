"""Settings of the committed stacks, read without running the program (dashboards are pure)."""

from __future__ import annotations

from dashboards.context import DashboardContext
from planner.stackfile import stack_settings

STACKS = ("dev", "staging", "prod")


settings_of = stack_settings


def context_of(stack: str) -> DashboardContext:
    return DashboardContext.from_settings(settings_of(stack))
