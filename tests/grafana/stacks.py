"""The dashboards' context of a committed stack, built without running the program (dashboards are pure)."""

from __future__ import annotations

from dashboards.context import DashboardContext
from infra.config.stackfile import SecretValue, stack_settings
from planner.engine import Plan, run_stack
from tests.conftest import shared_plan

TOKEN_KEY = "monitoring:grafanaCloudAccessPolicyToken"
TOKEN = SecretValue("glc_test-token")


def context_of(stack: str) -> DashboardContext:
    return DashboardContext.from_settings(stack_settings(stack))


def plan_with_cloud_token(stack: str) -> Plan:
    """A committed stack planned as if its Cloud access-policy token were set (shared across tests)."""
    return shared_plan(f"{stack}-with-cloud-token", lambda: run_stack(stack, overrides={TOKEN_KEY: TOKEN}))
