"""Stateful resources keep their logical names: a rename would replace (lose) them.

The names below are pinned. Renaming one is allowed only with an alias to the
old name (`pulumi.ResourceOptions(aliases=[pulumi.Alias(name=...)])`), which
this test accepts; prod must protect every one of them, and retain it in AWS
should it ever leave the program (`retain_on_delete`, same switch).
"""

from __future__ import annotations

import pytest

from planner.engine import Plan
from tests.conftest import plan_of

# (type token, logical name): resources whose replacement loses data or breaks subscribers.
STATEFUL: tuple[tuple[str, str], ...] = (
    ("aws:amp/workspace:Workspace", "amp-workspace"),  # every metric ever written
    ("aws:cloudwatch/logGroup:LogGroup", "amp-logs"),  # rule and Alertmanager error history
    ("aws:kms/key:Key", "notifications-key"),  # deleting it makes encrypted messages unreadable
    ("aws:sns/topic:Topic", "notifications-critical"),  # subscriptions (confirmed emails) live on topics
    ("aws:sns/topic:Topic", "notifications-warning"),
    ("aws:sns/topic:Topic", "notifications-watchdog"),
    ("aws:kms/key:Key", "notifications-pipeline-key"),  # the last-resort topic's own key
    ("aws:sns/topic:Topic", "notifications-pipeline"),
)


def _present_or_aliased(plan: Plan, type_token: str, name: str) -> bool:
    return any(r.name == name or name in r.aliases for r in plan.of_type(type_token))


@pytest.mark.parametrize(("type_token", "name"), STATEFUL, ids=[name for _, name in STATEFUL])
def test_stateful_resource_keeps_its_logical_name_or_an_alias_to_it(
    stack_plan: Plan, type_token: str, name: str
) -> None:
    assert _present_or_aliased(stack_plan, type_token, name), (
        f"{type_token} '{name}' vanished from stack {stack_plan.stack}: a rename replaces it; add an alias"
    )


@pytest.mark.parametrize(("type_token", "name"), STATEFUL, ids=[name for _, name in STATEFUL])
def test_prod_protects_and_retains_every_stateful_resource(type_token: str, name: str) -> None:
    plan = plan_of("prod")
    resource = next(r for r in plan.of_type(type_token) if r.name == name or name in r.aliases)
    assert resource.protect, f"{type_token} '{resource.name}' is not protected in prod"
    assert resource.retain_on_delete, f"{type_token} '{resource.name}' is not retained on delete in prod"
