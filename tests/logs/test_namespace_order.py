"""Every Kubernetes object the program puts in a namespace it creates is ordered after that Namespace.

Contract: a Helm release does not create its namespace unless `createNamespace` is set
(pulumi_kubernetes helm.v3.Release, `create_namespace`: "Create the namespace if it does not exist";
default false), and the API server refuses a namespaced object whose namespace does not exist
(Kubernetes API concepts: "namespace ... not found", 404). Pulumi orders a resource after another only
through `depends_on` or an input taken from its outputs (pulumi docs, "Resource options: dependsOn"),
so each such object must reach the Namespace through one of them, or it races its namespace on the first `up`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.config.stackfile import SecretValue, stack_settings
from planner.engine import Plan, PlannedResource
from tests.conftest import STACKS, plan_of

NAMESPACE = "kubernetes:core/v1:Namespace"
RELEASE = "kubernetes:helm.sh/v3:Release"


def namespace_of(resource: PlannedResource) -> Any:
    """The namespace a Kubernetes object is created in (a release names it at the top level)."""
    if resource.type == RELEASE:
        return resource.inputs.get("namespace")
    metadata = resource.inputs.get("metadata") or {}
    return metadata.get("namespace")


def ancestors_by_dependency(plan: Plan, resource: PlannedResource) -> set[str]:
    """Every URN the resource waits for, through dependencies of dependencies."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    pending = list(resource.depends_on)
    while pending:
        urn = pending.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in by_urn:
            pending.extend(by_urn[urn].depends_on)
    return seen


def objects_in_created_namespaces(plan: Plan) -> list[tuple[PlannedResource, PlannedResource]]:
    """(object, the Namespace resource it lives in) for every Kubernetes object of the plan."""
    namespaces = {r.inputs["metadata"]["name"]: r for r in plan.of_type(NAMESPACE)}
    return [
        (r, namespaces[namespace_of(r)])
        for r in plan.resources
        if r.custom and r.type.startswith("kubernetes:") and r.type != NAMESPACE and namespace_of(r) in namespaces
    ]


def unordered(plan: Plan) -> list[str]:
    return [
        f"{r.type} {r.name} in namespace {namespace.inputs['metadata']['name']}"
        for r, namespace in objects_in_created_namespaces(plan)
        if namespace.urn not in ancestors_by_dependency(plan, r)
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_in_a_namespace_we_create_waits_for_that_namespace(stack: str) -> None:
    assert unordered(plan_of(stack)) == []


def test_the_fluent_bit_release_is_among_the_objects_checked_and_waits_for_monitoring() -> None:
    """The check above is not vacuous: prod's log collector is in the namespace the collection creates."""
    plan = plan_of("prod")
    checked = {r.name: namespace for r, namespace in objects_in_created_namespaces(plan)}
    assert checked["logs-collector"].name == "collection-namespace"
    assert checked["logs-collector"].urn in plan.one(RELEASE, "logs-collector").depends_on


def test_exporters_and_their_secrets_placed_in_the_monitoring_namespace_wait_for_it(
    plan_with: Callable[..., Plan],
) -> None:
    """The committed stacks put the application exporters in the applications' namespaces; a stack file may
    put them in `monitoring`, which the collection creates: their Secrets and releases must wait for it too."""
    services = [
        {**service, "scrape": {**service["scrape"], "k8sNamespace": "monitoring"}} if "scrape" in service else service
        for service in stack_settings("staging").model_dump(by_alias=True, mode="json", exclude_none=True)["services"]
    ]
    plan = plan_with(
        "staging",
        {
            "monitoring:services": services,
            "monitoring:postgresDsn": SecretValue("postgresql://exporter:pw@db:5432/screener"),
            "monitoring:redisPassword": SecretValue("r3dis-pw"),
            "monitoring:celeryBrokerUrl": SecretValue("redis://:pw@redis:6379/0"),
        },
    )
    in_monitoring = {r.type.split(":")[-1] for r, _ in objects_in_created_namespaces(plan)}
    assert {"Secret", "Release", "Deployment"} <= in_monitoring
    assert unordered(plan) == []
