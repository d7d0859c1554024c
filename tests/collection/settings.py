"""The committed stacks' validated settings, for the pure renderers' tests."""

from __future__ import annotations

import functools
import json

from infra.config.model import StackInput
from planner.stackfile import load_stack_file


@functools.cache
def settings_of(stack: str) -> StackInput:
    stack_file = load_stack_file(stack)
    raw = {
        key.removeprefix("monitoring:"): json.loads(value) if value[:1] in "[{" else value
        for key, value in stack_file.config.items()
        if key.startswith("monitoring:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)
