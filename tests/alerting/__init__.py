"""Alerting tests, and the committed stacks' settings read straight from their files (no Pulumi run)."""

from __future__ import annotations

from functools import cache

import yaml

from infra.config import StackInput, stack_file_for
from infra.config.loader import NAMESPACE
from planner.stackfile import REPO_ROOT


@cache
def stack_settings(stack: str) -> StackInput:
    """The validated non-secret settings of a committed stack, as `load_stack_config` builds them."""
    document = yaml.safe_load((REPO_ROOT / stack_file_for(stack)).read_text())
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): value
        for key, value in document["config"].items()
        if key.startswith(f"{NAMESPACE}:") and not (isinstance(value, dict) and set(value) == {"secure"})
    }
    return StackInput.model_validate(raw)
