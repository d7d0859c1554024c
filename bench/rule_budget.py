"""`python -m bench.rule_budget`: the rule table of issue 27, measured on offline plans.

For prod's own catalog and staging with generated catalogs of 161, 500 and
2,000 services (bench/plan_once.py): the AMP rules the plan uploads, its
largest rule groups namespace (bytes), its largest group (rules) and the
Grafana-managed rules. With one rule per alert family and severity
(infra/alerting/rule_model.py), the AMP rules are a constant of the stack's
service kinds and distinct health paths, not of its catalog's size:

    rules = api 7 + health paths + slo 25 + availability 3 (+1 with nginx)
          + database (3 with api, +5 with postgres) + cache (1 with api, +3 with redis)
          + workers (3 with celery, +3 with airflow) + business 1 + meta 1-5
          + resources and kubernetes (the cluster rules' own families)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import yaml

RULE_GROUP_NAMESPACE = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
GRAFANA_RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
SIZES = (("prod", 0), ("staging", 161), ("staging", 500), ("staging", 2000))


@dataclass(frozen=True)
class RuleBudget:
    stack: str
    services: int
    rules: int
    largest_namespace: tuple[str, int]  # name, bytes
    largest_group: tuple[str, int]  # namespace/group, rules
    grafana_rules: int


def measure(stack: str, catalog_size: int = 0) -> RuleBudget:
    """Plan `stack` (with a generated catalog of `catalog_size` services, 0: its own) and count its rules."""
    from bench.plan_once import generated_overrides
    from planner.engine import run_stack

    plan = run_stack(stack, overrides=generated_overrides(stack, catalog_size) if catalog_size else None)
    sizes: dict[str, int] = {}
    groups: dict[str, int] = {}
    for namespace in plan.of_type(RULE_GROUP_NAMESPACE):
        data = namespace.inputs["data"]
        sizes[namespace.inputs["name"]] = len(data.encode())
        for group in yaml.safe_load(data)["groups"]:
            groups[f"{namespace.inputs['name']}/{group['name']}"] = len(group["rules"])
    largest_namespace = max(sizes.items(), key=lambda item: item[1])
    largest_group = max(groups.items(), key=lambda item: item[1])
    grafana = sum(len(group.inputs.get("rules") or []) for group in plan.of_type(GRAFANA_RULE_GROUP))
    services: list[Any] = yaml.safe_load(plan.stack_file.config["monitoring:services"])
    return RuleBudget(stack, len(services), sum(groups.values()), largest_namespace, largest_group, grafana)


def table(rows: list[RuleBudget]) -> str:
    lines = [
        "| services | rules | largest namespace | largest group | Grafana-managed rules |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        label = f"{row.services} ({row.stack})" if row.stack == "prod" else f"{row.services:,}"
        name, size = row.largest_namespace
        group, rules = row.largest_group
        lines.append(
            f"| {label} | {row.rules:,} | {size / 1000:,.0f} KB ({name}) | {rules:,} ({group}) | {row.grafana_rules} |"
        )
    return "\n".join(lines)


def main() -> int:
    print(table([measure(stack, size) for stack, size in SIZES]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
