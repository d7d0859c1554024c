"""Golden Alertmanager definitions: what each stack uploads to AMP, as planned."""

from __future__ import annotations

from tests.conftest import STACKS, plan_of

DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"


def generate() -> dict[str, str]:
    return {f"alertmanager/{stack}.yaml": plan_of(stack).one(DEFINITION).inputs["definition"] for stack in STACKS}
