"""The AMP core per stack: retention, logging, tags, protection and output URLs."""

from __future__ import annotations

import pytest

from planner.engine import Plan
from tests.conftest import STACKS, plan_of

WORKSPACE = "aws:amp/workspace:Workspace"
CONFIGURATION = "aws:amp/workspaceConfiguration:WorkspaceConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
REQUIRED_TAGS = {"environment", "service", "owner"}


@pytest.mark.parametrize(("stack", "days"), [("dev", 15), ("staging", 30), ("prod", 90)])
def test_retention_follows_the_stack_and_never_drops_below_the_spec(stack: str, days: int) -> None:
    configuration = plan_of(stack).one(CONFIGURATION, "amp-configuration")
    assert configuration.inputs["retentionPeriodInDays"] == days >= 15


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_workspace_keeps_its_logical_name_and_alias(stack: str) -> None:
    workspace = plan_of(stack).one(WORKSPACE)
    assert workspace.name == "amp-workspace"
    assert workspace.inputs["alias"] == f"screener-{stack}"
    assert workspace.urn.endswith("monitoring:index:AmpWorkspace$aws:amp/workspace:Workspace::amp-workspace")


def test_only_prod_protects_the_workspace_and_its_logs() -> None:
    assert plan_of("prod").one(WORKSPACE).protect
    assert plan_of("prod").one(LOG_GROUP, "amp-logs").protect
    # The same switch retains them in AWS should they ever leave the program.
    assert plan_of("prod").one(WORKSPACE).retain_on_delete
    assert plan_of("prod").one(LOG_GROUP, "amp-logs").retain_on_delete
    for stack in ("dev", "staging"):
        assert not plan_of(stack).one(WORKSPACE).retain_on_delete, stack
    for stack in ("dev", "staging"):
        assert not plan_of(stack).one(WORKSPACE).protect, stack
        assert not plan_of(stack).one(LOG_GROUP, "amp-logs").protect, stack


def test_workspace_logs_rule_and_alertmanager_errors_to_its_vended_log_group(stack_plan: Plan) -> None:
    log_group = stack_plan.one(LOG_GROUP, "amp-logs")
    workspace = stack_plan.one(WORKSPACE)
    assert log_group.inputs["name"] == f"/aws/vendedlogs/prometheus/screener-{stack_plan.stack}"
    assert workspace.inputs["loggingConfiguration"]["logGroupArn"] == f"{log_group.outputs['arn']}:*"


def test_log_retention_differs_per_environment() -> None:
    days = {stack: plan_of(stack).one(LOG_GROUP, "amp-logs").inputs["retentionInDays"] for stack in ("dev", "prod")}
    assert days == {"dev": 14, "prod": 90}


def test_every_taggable_amp_resource_carries_the_required_tags(stack_plan: Plan) -> None:
    for resource in (stack_plan.one(WORKSPACE), stack_plan.one(LOG_GROUP, "amp-logs")):
        tags = resource.inputs["tags"]
        assert set(tags) >= REQUIRED_TAGS, resource.name
        assert tags["environment"] == stack_plan.stack
        assert tags["owner"] == "platform-team"


def test_endpoint_outputs_are_the_amp_api_paths_under_the_workspaces_endpoint(stack_plan: Plan) -> None:
    """remote write and query URLs: AMP's API paths under the workspace's `prometheusEndpoint`.

    Contract: the AMP API reference (WorkspaceDescription.prometheusEndpoint, which ends with
    '/') and the AMP user guide's endpoints `<endpoint>api/v1/remote_write` and `<endpoint>api/v1/query`.
    The expected values come from the workspace's own output, not from the fakes' ID shapes.
    """
    endpoint = stack_plan.one(WORKSPACE).outputs["prometheusEndpoint"]
    assert stack_plan.outputs["amp_remote_write_url"] == f"{endpoint}api/v1/remote_write"
    assert stack_plan.outputs["amp_query_url"] == f"{endpoint}api/v1/query"


def test_the_managed_scrapers_workspace_declares_the_tag_the_scraper_adds() -> None:
    """A managed scraper tags its destination workspace `AMPAgentlessScraper` (empty value); undeclared, the
    daily `pulumi preview --refresh --expect-no-changes` fails and `up --refresh` strips it. Declaring it is
    the provider's preferred fix: pulumi_aws/amp/scraper.py docstring ("Ignoring changes to Prometheus
    Workspace destination"), from terraform-provider-aws website/docs/r/prometheus_scraper.html.markdown."""
    for stack in STACKS:
        tags = plan_of(stack).one(WORKSPACE).inputs["tags"]
        scraped = plan_of(stack).of_type("aws:amp/scraper:Scraper") != []
        assert (tags.get("AMPAgentlessScraper") == "") is scraped, stack
    assert plan_of("prod").of_type("aws:amp/scraper:Scraper")
