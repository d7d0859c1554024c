"""Bad Grafana settings are refused with the setting, the stack file and the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT
from planner.engine import run_stack

PROD_FILE = "stacks/Pulumi.prod.yaml"


def prod_grafana(**changes: Any) -> dict[str, Any]:
    document = yaml.safe_load((REPO_ROOT / PROD_FILE).read_text())
    grafana: dict[str, Any] = copy.deepcopy(document["config"]["monitoring:grafana"])
    grafana.update(changes)
    return grafana


def refused(grafana: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        run_stack("prod", overrides={"monitoring:grafana": grafana})
    assert info.value.declared_resources == []  # type: ignore[attr-defined]
    return "\n".join(info.value.problems)


def test_the_old_grafana_maintenance_key_names_its_new_home() -> None:
    old = {"weekdays": ["sunday"], "startTime": "18:00", "endTime": "19:00", "location": "Asia/Seoul"}
    problems = refused(prod_grafana(maintenance=old))
    assert f"{PROD_FILE}: monitoring:grafana: maintenance moved to monitoring:maintenance" in problems


@pytest.mark.parametrize("tree", [{"environments": ["dev", "staging", "prod"]}, {"maintenanceEnvironments": ["prod"]}])
def test_a_tree_that_routes_other_stacks_is_refused_with_the_fix(tree: dict[str, list[str]]) -> None:
    assert (
        f"{PROD_FILE}: monitoring:grafana.notificationPolicy: environments and maintenanceEnvironments were removed: "
        "every Grafana rule now routes itself to its own stack's contact points, and the tree names only this "
        "stack's own; write `notificationPolicy: {}`" in refused(prod_grafana(notificationPolicy=tree))
    )


def test_an_unpinned_plugin_version_is_refused() -> None:
    assert f"{PROD_FILE}: monitoring:grafana.ampPluginVersion:" in refused(prod_grafana(ampPluginVersion="latest"))


def test_a_second_stack_installing_the_amp_plugin_is_refused() -> None:
    without_tree = prod_grafana()
    del without_tree["notificationPolicy"]
    assert (
        f"{PROD_FILE}: monitoring:grafana: stackSlug installs the AMP plugin, which the whole Grafana stack shares; "
        "only the stack file that owns the policy tree (sets notificationPolicy) may set it. Remove stackSlug here"
        in refused(without_tree)
    )


@pytest.mark.parametrize("external_id", ["screener-prod-a41e", "", "12 34"])
def test_an_external_id_that_is_not_a_grafana_stack_id_is_refused(external_id: str) -> None:
    assert f"{PROD_FILE}: monitoring:grafana.externalId:" in refused(prod_grafana(externalId=external_id))
