"""Golden files: every registered dashboard's JSON model for every committed stack."""

from __future__ import annotations

from dashboards.common import to_json
from dashboards.registry import build_all
from tests.conftest import STACKS
from tests.grafana.stacks import context_of


def generate() -> dict[str, str]:
    return {
        f"dashboards/{stack}/{slug}.json": to_json(model)
        for stack in STACKS
        for slug, model in build_all(context_of(stack)).items()
    }
