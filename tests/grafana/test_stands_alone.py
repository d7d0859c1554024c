"""Every stack stands alone in the Grafana instance the stacks share: it names no Grafana object another stack owns.

Grafana refuses to delete an object something else still names: a contact point named by the policy tree
or by a rule's notification settings, a mute timing in use, a non-empty folder (HTTP 409/500;
grafana/terraform-provider-grafana #769 and #1806, grafana/grafana #111921: `ErrContactPointReferenced`,
`ErrContactPointUsedInRule`). So a stack that named another stack's contact point could neither be created
before that stack nor outlive it, and the other stack could not be destroyed first. Within one stack Pulumi
orders creation and deletion by dependencies; across stacks nothing does.

Each committed stack is planned and every name its Grafana resources refer to (contact point, mute timing,
folder, data source, dashboard, role) must be declared by that same stack's plan, or be one of the objects
Grafana itself provides in every instance (`BUILT_IN`), which no stack owns or deletes. Names are the keys
Grafana resolves those references by (the provider's `contact_point`/`mute_timings` by name,
`folder_uid`/`datasource_uid`/`dashboard_uid`/`role_uid` by uid; a dashboard panel's `datasource.uid`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from infra.alerting.grafana_rules import EXPRESSION_DATASOURCE
from infra.config.stackfile import stack_settings
from infra.config.synthetics import SM_DATASOURCE_UID
from planner.engine import Plan, PlannedResource
from tests.conftest import STACKS, plan_of
from tests.grafana.stacks import plan_with_cloud_token

Name = tuple[str, str]  # (kind, name)

# What each resource type declares, by the key Grafana resolves references with.
DECLARES: Mapping[str, Callable[[PlannedResource], list[Name]]] = {
    "grafana:alerting/contactPoint:ContactPoint": lambda r: [("contact point", r.inputs["name"])],
    "grafana:alerting/muteTiming:MuteTiming": lambda r: [("mute timing", r.inputs["name"])],
    "grafana:oss/folder:Folder": lambda r: [("folder", r.inputs["uid"])],
    "grafana:oss/dataSource:DataSource": lambda r: [("data source", r.inputs["uid"])],
    "grafana:oss/dashboard:Dashboard": lambda r: [("dashboard", json.loads(r.inputs["configJson"])["uid"])],
    "grafana:enterprise/role:Role": lambda r: [("role", r.inputs["uid"])],
}
# Input keys (the SDK's camelCase, at any depth) whose values name another Grafana object.
REFERENCE_KEYS = {
    "contactPoint": "contact point",
    "muteTimings": "mute timing",
    "folderUid": "folder",
    "datasourceUid": "data source",
    "dashboardUid": "dashboard",
    "roleUid": "role",
}
# Objects every Grafana (Cloud) instance has without any stack declaring them.
BUILT_IN: frozenset[Name] = frozenset(
    {
        # Server-side expressions (grafana/grafana pkg/expr: DatasourceUID "__expr__").
        ("data source", EXPRESSION_DATASOURCE),
        # The built-in Grafana data source as dashboards' built-in annotation query names it
        # (grafana/grafana pkg/tsdb/grafanads: DatasourceName "-- Grafana --").
        ("data source", "-- Grafana --"),
        # Grafana Cloud's own Prometheus, provisioned with every Cloud stack (infra/config/synthetics.py).
        ("data source", SM_DATASOURCE_UID),
    }
)


# Data source types Grafana ships (grafana/grafana public/app/plugins/datasource/<type>): no installation.
CORE_DATA_SOURCE_TYPES = frozenset({"alertmanager", "cloudwatch", "prometheus"})
PLUGIN = "grafana:cloud/pluginInstallation:PluginInstallation"


def _references_in(value: Any, key: str | None = None) -> Iterator[Name]:
    if isinstance(value, Mapping):
        for child_key, child in value.items():
            yield from _references_in(child, child_key)
    elif isinstance(value, list):
        for item in value:
            yield from _references_in(item, key)
    elif isinstance(value, str) and key in REFERENCE_KEYS:
        yield (REFERENCE_KEYS[key], value)


def _panel_data_sources(model: Any) -> Iterator[Name]:
    """`datasource: {uid}` anywhere in a dashboard model, except template variables (`${datasource}`)."""
    if isinstance(model, Mapping):
        source = model.get("datasource")
        if isinstance(source, Mapping) and isinstance(source.get("uid"), str) and "$" not in source["uid"]:
            yield ("data source", source["uid"])
        for child in model.values():
            yield from _panel_data_sources(child)
    elif isinstance(model, list):
        for item in model:
            yield from _panel_data_sources(item)


def references(resource: PlannedResource) -> set[Name]:
    found = set(_references_in(resource.inputs))
    if resource.type == "grafana:oss/dashboard:Dashboard":
        found.add(("folder", resource.inputs["folder"]))
        found |= set(_panel_data_sources(json.loads(resource.inputs["configJson"])))
    return found


def grafana_resources(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.custom and r.type.startswith("grafana:")]


def declared(plan: Plan) -> set[Name]:
    return {name for r in grafana_resources(plan) if r.type in DECLARES for name in DECLARES[r.type](r)}


def foreign_references(plan: Plan) -> dict[str, set[Name]]:
    """Resource name -> the Grafana names it refers to that its own stack does not declare."""
    own = declared(plan) | BUILT_IN
    found = {r.name: references(r) - own for r in grafana_resources(plan)}
    return {name: names for name, names in found.items() if names}


@pytest.mark.parametrize("stack", STACKS)
def test_no_stack_names_a_grafana_object_it_does_not_declare(stack: str) -> None:
    assert foreign_references(plan_of(stack)) == {}


@pytest.mark.parametrize("stack", STACKS)
def test_the_check_sees_the_references_that_tie_stacks_together(stack: str) -> None:
    """Not vacuous: each stack's rules name its contact points, folder and data sources, and all are found."""
    plan = plan_of(stack)
    found = {name for r in grafana_resources(plan) for name in references(r)}
    prefix = f"screener-{stack}"
    assert {
        ("contact point", f"{prefix}-oncall"),
        ("contact point", f"{prefix}-team"),
        ("contact point", f"{prefix}-heartbeat"),
        ("folder", prefix),
        ("data source", f"{prefix}-amp"),
        ("role", f"{prefix}-annotator"),
    } <= found


def test_a_tree_routing_another_stacks_contact_point_is_found() -> None:
    """The defect this guards against, as the policy tree had it: prod routing dev's alerts by name."""
    plan = plan_of("prod")
    tree = next(r for r in plan.resources if r.type == "grafana:alerting/notificationPolicy:NotificationPolicy")
    routed = {**tree.inputs, "policies": [*tree.inputs["policies"], {"contactPoint": "screener-dev-team"}]}
    planted = Plan(plan.stack, plan.stack_file, [*[r for r in plan.resources if r is not tree]], plan.outputs)
    planted.resources.append(
        PlannedResource(tree.urn, tree.type, tree.name, tree.parent, tree.custom, routed, tree.outputs)
    )
    assert foreign_references(planted) == {tree.name: {("contact point", "screener-dev-team")}}


def plugins_used(plan: Plan) -> set[str]:
    return {
        r.inputs["type"]
        for r in plan.of_type("grafana:oss/dataSource:DataSource")
        if r.inputs["type"] not in CORE_DATA_SOURCE_TYPES
    }


def test_the_one_shared_object_a_stack_uses_has_a_single_declared_owner() -> None:
    """The AMP data source's plugin is installed once per Grafana Cloud stack (`grafana.stackSlug`): every stack's
    data source uses it, one stack file declares it, and only that stack's plan installs it (docs/teardown.md
    says what destroying that stack does to the others)."""
    owners = [stack for stack in STACKS if stack_settings(stack).grafana.stack_slug is not None]
    assert owners == ["prod"]
    installs = {stack: {r.inputs["slug"] for r in plan_with_cloud_token(stack).of_type(PLUGIN)} for stack in STACKS}
    assert installs == {"dev": set(), "staging": set(), "prod": {"grafana-amazonprometheus-datasource"}}
    for stack in STACKS:
        assert plugins_used(plan_of(stack)) <= installs["prod"], stack
