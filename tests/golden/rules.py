"""Golden rule files: the rendered rules of dev and prod, so that any change to an alert shows in review."""

from __future__ import annotations

from infra.alerting.rules import render_rule_files
from infra.config.stackfile import stack_settings

STACKS = ("dev", "prod")


def generate() -> dict[str, str]:
    return {
        f"rules/{stack}/{namespace}.yaml": text
        for stack in STACKS
        for namespace, text in render_rule_files(stack_settings(stack)).items()
    }
