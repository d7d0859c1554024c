"""Every nested input of every planned resource is a key its provider SDK's input type defines.

Contract: the SDKs' `...Args` input types (pulumi_aws, pulumi_kubernetes,
pulumiverse_grafana under .venv/lib/python3.11/site-packages/), read through
`pulumi._types.input_type_types`; see tests/contracts/sdk_inputs.py. The mocks
accept any key, so without this a nested typo plans cleanly and fails at deploy.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi_aws as aws

from infra.config.stackfile import load_stack_file
from planner.engine import Plan, run_program
from tests.conftest import plan_of
from tests.contracts.sdk_inputs import UnknownKey, args_class, plan_unknown_keys, unchecked_types, unknown_keys


def test_every_planned_input_key_is_defined_by_the_sdk(stack_plan: Plan) -> None:
    assert plan_unknown_keys(stack_plan) == []


def test_every_planned_provider_resource_type_has_an_sdk_input_type(stack_plan: Plan) -> None:
    # Otherwise the check above would pass by skipping it.
    assert unchecked_types(stack_plan) == set()
    assert args_class("aws:amp/scraper:Scraper") is aws.amp.ScraperArgs


def test_a_typo_in_a_nested_dict_plans_under_the_mocks_and_fails_here() -> None:
    """Planted: the real engine, a resource whose nested dict misspells `cluster_arn`.

    mypy catches such a typo in a dict literal (the SDK's `...ArgsDict` TypedDicts); a dict built
    at run time (from configuration, merged, copied) is `Any` to it, and only this check remains.
    """
    source: Any = {"eks": {"cluster_arnn": "arn:aws:eks:ap-northeast-2:123456789012:cluster/c", "subnet_ids": ["s"]}}

    def program() -> None:
        aws.amp.Scraper(
            "typo",
            scrape_configuration="global: {}",
            source=source,
            destination={"amp": {"workspace_arn": "arn:aws:aps:ap-northeast-2:123456789012:workspace/ws-1"}},
        )

    plan = run_program(load_stack_file("dev"), program)
    assert plan_unknown_keys(plan) == [UnknownKey("aws:amp/scraper:Scraper typo", "source.eks.cluster_arnn")]


def test_typos_at_every_depth_of_the_committed_plans_are_found() -> None:
    """Planted in copies of the planned inputs: a list item of a nested Args, and a Kubernetes pod spec
    (prod: the stack with both; dev has no cluster)."""
    stack_plan = plan_of("prod")
    configuration = stack_plan.one("aws:amp/workspaceConfiguration:WorkspaceConfiguration")
    inputs = copy.deepcopy(configuration.inputs)
    inputs["limitsPerLabelSets"][0]["limits"]["maxSeriez"] = inputs["limitsPerLabelSets"][0]["limits"].pop("maxSeries")
    assert [u.path for u in unknown_keys(configuration.type, configuration.name, inputs)] == [
        "limitsPerLabelSets[0].limits.maxSeriez"
    ]
    deployment = stack_plan.of_type("kubernetes:apps/v1:Deployment")[0]
    inputs = copy.deepcopy(deployment.inputs)
    inputs["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert [u.path for u in unknown_keys(deployment.type, deployment.name, inputs)] == [
        "spec.template.spec.containers[0].imagePullPolicyy"
    ]
