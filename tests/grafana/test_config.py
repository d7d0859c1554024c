"""Bad Grafana settings are refused with the setting, the stack file and the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from infra.config import ConfigError
from planner.engine import run_stack
from planner.stackfile import REPO_ROOT

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


@pytest.mark.parametrize(
    ("maintenance", "expected"),
    [
        ({"weekdays": ["sundy"]}, "monitoring:grafana.maintenance.weekdays: 'sundy' is not a weekday"),
        ({"location": "Seoul"}, "monitoring:grafana.maintenance.location: 'Seoul' is not an IANA time zone"),
        (
            {"startTime": "23:00", "endTime": "01:00"},
            "monitoring:grafana.maintenance: startTime 23:00 must be before endTime 01:00",
        ),
        ({"startTime": "25:00"}, "monitoring:grafana.maintenance.startTime:"),
    ],
)
def test_a_bad_maintenance_window_is_refused(maintenance: dict[str, Any], expected: str) -> None:
    problems = refused(prod_grafana(maintenance=maintenance))
    assert f"{PROD_FILE}: {expected}" in problems


def test_a_muted_environment_must_be_routed() -> None:
    tree = {"environments": ["prod"], "maintenanceEnvironments": ["staging"]}
    problems = refused(prod_grafana(notificationPolicy=tree))
    assert (
        f"{PROD_FILE}: monitoring:grafana.notificationPolicy: maintenanceEnvironments ['staging'] are not in "
        "environments; add them there" in problems
    )


def test_an_unpinned_plugin_version_is_refused() -> None:
    assert f"{PROD_FILE}: monitoring:grafana.ampPluginVersion:" in refused(prod_grafana(ampPluginVersion="latest"))


def test_the_owning_stack_must_route_its_own_environment() -> None:
    tree = {"environments": ["dev", "staging"]}
    assert (
        f"{PROD_FILE}: monitoring:grafana: notificationPolicy.environments ['dev', 'staging'] must include this "
        "stack's own environment 'prod'; add it" in refused(prod_grafana(notificationPolicy=tree)).splitlines()
    )


def test_a_night_window_can_end_at_midnight() -> None:
    plan = run_stack(
        "prod", overrides={"monitoring:grafana": prod_grafana(maintenance={"startTime": "22:00", "endTime": "24:00"})}
    )
    (interval,) = plan.one("grafana:alerting/muteTiming:MuteTiming").inputs["intervals"]
    assert interval["times"] == [{"start": "22:00", "end": "24:00"}]


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
