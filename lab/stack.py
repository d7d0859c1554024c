"""A stack's validated settings straight from its stack file, for tools that run outside Pulumi."""

from __future__ import annotations

from typing import Any

import yaml

from infra.config import StackInput, stack_file_for
from infra.config.loader import NAMESPACE
from planner.stackfile import REPO_ROOT


def stack_settings(stack: str) -> StackInput:
    """`StackInput` of `stacks/Pulumi.<stack>.yaml` (secrets are not settings and are left out)."""
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / stack_file_for(stack)).read_text()) or {}
    fields = {field.alias or name for name, field in StackInput.model_fields.items()}
    raw = {
        key.split(":", 1)[1]: value
        for key, value in (document.get("config") or {}).items()
        if key.startswith(f"{NAMESPACE}:") and key.split(":", 1)[1] in fields
    }
    return StackInput.model_validate(raw)
