"""Settings of the committed stacks, read without running the program (dashboards are pure)."""

from __future__ import annotations

import json
from functools import cache

from dashboards.context import DashboardContext
from infra.config.loader import NAMESPACE
from infra.config.model import StackInput
from planner.stackfile import load_stack_file

STACKS = ("dev", "staging", "prod")


@cache
def settings_of(stack: str) -> StackInput:
    stack_file = load_stack_file(stack, fill_unset_secrets=False)
    raw = {}
    for full_key, value in stack_file.config.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE or full_key in stack_file.secret_keys:
            continue
        raw[key] = json.loads(value) if value[:1] in "[{" else value
    return StackInput.model_validate(raw)


def context_of(stack: str) -> DashboardContext:
    return DashboardContext.from_settings(settings_of(stack))
