"""Golden files: the log collector's Fluent Bit pipeline and the Logs dashboard of each stack that collects logs."""

from __future__ import annotations

from dashboards import logs as logs_dashboard
from dashboards.common import to_json
from infra.components.logs import log_group_name
from infra.config.stackfile import stack_settings
from infra.logs.fluent_bit import GROUP_KINDS, config_text, log_sources
from tests.grafana.stacks import context_of

REGION = "ap-northeast-2"


def generate() -> dict[str, str]:
    files: dict[str, str] = {}
    for stack in ("staging", "prod"):
        settings = stack_settings(stack)
        groups = {kind: log_group_name(settings.name_prefix, kind) for kind in GROUP_KINDS}
        sources = log_sources(settings.logs)
        files[f"logs/{stack}-fluent-bit.conf"] = config_text(sources, groups, REGION)
        files[f"logs/{stack}-dashboard.json"] = to_json(
            logs_dashboard.build(context_of(stack), REGION, groups, [source.service for source in sources])
        )
    return files
