"""Golden files: the public status page (prod publishes it) and the uptime alert rules of every stack."""

from __future__ import annotations

import json

from dashboards.common import to_json
from dashboards.uptime import build_status_page
from infra.alerting.grafana_rules import rule_labels, rule_uid
from infra.alerting.uptime_rules import uptime_rule_groups
from infra.components.synthetics_checks import plan_checks
from infra.config.stackfile import stack_settings
from infra.config.synthetics import SM_DATASOURCE_UID
from tests.conftest import STACKS
from tests.grafana.stacks import context_of


def _rule_groups(stack: str) -> str:
    settings = stack_settings(stack)
    name_prefix = f"{settings.platform}-{settings.environment}"
    checks = plan_checks(settings)
    groups = {
        group.name: {
            "intervalSeconds": group.interval_seconds,
            "rules": [
                {
                    "name": rule.name,
                    "uid": rule_uid(name_prefix, rule),
                    "for": f"{rule.for_minutes}m",
                    "expr": rule.expr,
                    "comparison": rule.comparison,
                    "threshold": rule.threshold,
                    "labels": rule_labels(rule, settings.environment),
                    "noDataState": rule.no_data_state,
                }
                for rule in group.rules
            ],
        }
        for group in uptime_rule_groups(checks, settings.synthetics, name_prefix, SM_DATASOURCE_UID)
    }
    return json.dumps(groups, indent=2, sort_keys=True) + "\n"


def generate() -> dict[str, str]:
    files = {"synthetics/prod/status-page.json": to_json(build_status_page(context_of("prod")))}
    files.update({f"synthetics/{stack}/uptime-rules.json": _rule_groups(stack) for stack in STACKS})
    return files
