"""Under mocks: the AMP data source, the role Grafana Cloud assumes, the provider's secrets, the dashboards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from dashboards.common import to_json
from dashboards.registry import DASHBOARDS, build_all
from infra.components.grafana_datasource import AMP_PLUGIN, AMP_QUERY_ACTIONS
from infra.config.stackfile import stack_settings
from planner.artifacts import write_artifacts
from planner.engine import SECRET, Plan
from tests.conftest import plan_of
from tests.grafana.stacks import context_of, plan_with_cloud_token

PROVIDER = "pulumi:providers:grafana"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
PLUGIN = "grafana:cloud/pluginInstallation:PluginInstallation"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
STATUS_PAGE = "synthetics-status"
WORKSPACE = "aws:amp/workspace:Workspace"
TOKEN_KEY = "monitoring:grafanaCloudAccessPolicyToken"


def test_only_grafana_clouds_account_may_assume_the_role_and_only_with_the_external_id(stack_plan: Plan) -> None:
    spec = stack_settings(stack_plan.stack).grafana
    trust = json.loads(stack_plan.one(ROLE, "grafana-amp-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Sid": "GrafanaCloudAssumesWithExternalId",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{spec.aws_account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": spec.external_id}},
        }
    ]
    assert spec.aws_account_id == "008923505280"


def test_role_may_only_query_this_stacks_workspace(stack_plan: Plan) -> None:
    policy = json.loads(stack_plan.one(ROLE_POLICY, "grafana-amp-query").inputs["policy"])
    workspace_arn = stack_plan.one(WORKSPACE).outputs["arn"]
    assert policy["Statement"] == [
        {
            "Sid": "QueryThisWorkspaceOnly",
            "Effect": "Allow",
            "Action": ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"],
            "Resource": workspace_arn,
        }
    ]
    assert not any("*" in action for action in AMP_QUERY_ACTIONS)


def test_policy_is_attached_to_the_data_source_role(stack_plan: Plan) -> None:
    role = stack_plan.one(ROLE, "grafana-amp-role")
    assert stack_plan.one(ROLE_POLICY, "grafana-amp-query").inputs["role"] == role.inputs["name"]
    assert role.inputs["name"] == f"screener-{stack_plan.stack}-grafana-amp-query"


def test_data_source_signs_with_grafanas_assume_role_against_the_workspace_endpoint(stack_plan: Plan) -> None:
    source = stack_plan.one(DATA_SOURCE, "grafana-amp-datasource")
    workspace = stack_plan.one(WORKSPACE)
    role = stack_plan.one(ROLE, "grafana-amp-role")
    assert source.inputs["type"] == AMP_PLUGIN == "grafana-amazonprometheus-datasource"
    assert source.inputs["uid"] == f"screener-{stack_plan.stack}-amp"
    assert source.inputs["url"] == workspace.outputs["prometheusEndpoint"].rstrip("/")
    json_data = json.loads(source.inputs["jsonDataEncoded"])
    assert json_data == {
        "sigV4Auth": True,
        "sigV4AuthType": "grafana_assume_role",
        "sigV4AssumeRoleArn": role.outputs["arn"],
        "sigV4Region": stack_plan.stack_file.region,
        "sigV4UsePerDatasourceExternalId": False,
        "httpMethod": "POST",
        "manageAlerts": False,
        "timeInterval": "30s",
    }
    assert "secureJsonDataEncoded" not in source.inputs  # no AWS key is stored in Grafana


def test_provider_gets_the_service_account_token_only_as_a_secret(stack_plan: Plan) -> None:
    provider = stack_plan.one(PROVIDER, "grafana")
    assert provider.inputs["url"] == stack_settings(stack_plan.stack).grafana.url
    assert provider.inputs["auth"] == SECRET
    assert rpc.is_rpc_secret(provider.raw_inputs["auth"])
    assert "cloudAccessPolicyToken" not in provider.inputs


def test_every_grafana_resource_uses_the_explicit_provider(stack_plan: Plan) -> None:
    provider = stack_plan.one(PROVIDER, "grafana")
    # Synthetic Monitoring has its own API and token: its checks use a provider holding only those.
    synthetics = stack_plan.one(PROVIDER, "grafana-synthetics")
    grafana_resources = [r for r in stack_plan.resources if r.custom and r.type.startswith("grafana:")]
    assert grafana_resources
    for resource in grafana_resources:
        expected = synthetics if resource.type.startswith("grafana:syntheticMonitoring/") else provider
        assert resource.provider.startswith(expected.urn + "::"), resource.name


def test_plugin_is_installed_only_by_the_stack_owning_stack_wide_objects_and_only_with_a_cloud_token() -> None:
    assert plan_of("prod").of_type(PLUGIN) == []
    plugin = plan_with_cloud_token("prod").one(PLUGIN, "grafana-amp-plugin")
    assert plugin.inputs == {"stackSlug": "screener", "slug": AMP_PLUGIN, "version": "3.2.0"}
    source = plan_with_cloud_token("prod").one(DATA_SOURCE, "grafana-amp-datasource")
    assert plugin.urn in source.depends_on
    # dev shares the Grafana stack but does not own it: a token changes nothing there.
    assert plan_with_cloud_token("dev").of_type(PLUGIN) == []


def test_cloud_token_reaches_the_provider_only_as_a_secret() -> None:
    plan = plan_with_cloud_token("dev")
    provider = plan.one(PROVIDER, "grafana")
    assert provider.inputs["cloudAccessPolicyToken"] == SECRET
    assert rpc.is_rpc_secret(provider.raw_inputs["cloudAccessPolicyToken"])
    recorded = [(r.inputs, r.outputs) for r in plan.resources]
    assert "glc_test-token" not in json.dumps(_to_jsonable([recorded, plan.outputs]))


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


def test_dashboards_uploaded_are_the_registry_models_in_the_environment_folder(stack_plan: Plan) -> None:
    folder = stack_plan.one(FOLDER, "grafana-dashboards-folder")
    assert folder.inputs["uid"] == f"screener-{stack_plan.stack}"
    expected = build_all(context_of(stack_plan.stack))
    # The public status page (prod) is the synthetics component's; tests/synthetics check it.
    uploaded = {
        r.name.removeprefix("grafana-dashboards-"): r
        for r in stack_plan.of_type(DASHBOARD)
        # The status page is the synthetics component's, the Logs dashboard the logs component's.
        if r.name.startswith("grafana-dashboards-")
    }
    assert set(uploaded) == {spec.slug for spec in DASHBOARDS}
    for slug, resource in uploaded.items():
        assert resource.inputs["configJson"] == to_json(expected[slug])
        assert resource.inputs["folder"] == folder.inputs["uid"]
        assert resource.inputs["overwrite"] is True


def test_outputs_show_the_folder_and_dashboard_urls_and_the_data_source_uid(stack_plan: Plan) -> None:
    base = stack_settings(stack_plan.stack).grafana.url
    outputs = stack_plan.outputs
    assert outputs["grafana_datasource_uid"] == f"screener-{stack_plan.stack}-amp"
    assert outputs["grafana_folder_url"].startswith(f"{base}/dashboards/f/screener-{stack_plan.stack}/")
    urls = outputs["grafana_dashboard_urls"]
    assert set(urls) == {spec.slug for spec in DASHBOARDS}
    for slug, url in urls.items():
        assert url.startswith(f"{base}/d/screener-{stack_plan.stack}-{slug}/")


def test_plan_writes_every_dashboards_json(tmp_path: Path) -> None:
    plan = plan_of("staging")
    written = write_artifacts(plan, tmp_path)
    dashboards = sorted(p for p in written if p.parent == tmp_path / "dashboards")
    # The registry's dashboards and, where logs are collected, the logs component's Logs dashboard.
    assert len(dashboards) == len(DASHBOARDS) + 1
    for path in dashboards:
        model = json.loads(path.read_text())
        assert model["uid"].startswith("screener-staging-")


def test_prod_dashboards_and_data_source_name_their_environment() -> None:
    source = plan_of("prod").one(DATA_SOURCE, "grafana-amp-datasource")
    assert source.inputs["name"] == "AMP (prod)"
    assert plan_of("prod").one(FOLDER, "grafana-dashboards-folder").inputs["title"] == "Screener monitoring (prod)"


# Which jsonData flag selects Grafana's external-ID mode: `sigV4…` for data sources signed through the
# SigV4 middleware (Prometheus, Alertmanager), unprefixed for the native AWS ones (CloudWatch).
EXTERNAL_ID_MODE = {"sigV4AuthType": "sigV4UsePerDatasourceExternalId", "authType": "usePerDatasourceExternalId"}


def assume_role_data_sources_in_per_data_source_mode(plan: Plan) -> list[str]:
    """Data sources that assume our roles but leave Grafana free to mint a per-data-source external ID.

    Contract: grafana/grafana pkg awsexternalid: on create, per-data-source mode is the default when the
    flag is omitted, and its ID ("<stack id>-<uid>-<random>") exists only after the data source does, so
    no trust policy written beforehand (ours hold the Grafana stack's one ID) can match it.
    """
    found = []
    for source in plan.of_type(DATA_SOURCE):
        data = json.loads(source.inputs.get("jsonDataEncoded") or "{}")
        for auth_key, mode_key in EXTERNAL_ID_MODE.items():
            if data.get(auth_key) == "grafana_assume_role" and data.get(mode_key) is not False:
                found.append(f"{source.name}: {auth_key} grafana_assume_role without {mode_key}: false")
    return found


def test_every_data_source_that_assumes_a_role_uses_the_grafana_stacks_one_external_id(stack_plan: Plan) -> None:
    assert any(
        "grafana_assume_role" in (s.inputs.get("jsonDataEncoded") or "") for s in stack_plan.of_type(DATA_SOURCE)
    )
    assert assume_role_data_sources_in_per_data_source_mode(stack_plan) == []


def test_a_data_source_that_omits_the_external_id_mode_is_caught() -> None:
    import copy

    planted = copy.deepcopy(plan_of("prod"))
    source = next(s for s in planted.of_type(DATA_SOURCE) if "sigV4AuthType" in s.inputs["jsonDataEncoded"])
    data = json.loads(source.inputs["jsonDataEncoded"])
    del data["sigV4UsePerDatasourceExternalId"]
    source.inputs["jsonDataEncoded"] = json.dumps(data)
    assert assume_role_data_sources_in_per_data_source_mode(planted) == [
        f"{source.name}: sigV4AuthType grafana_assume_role without sigV4UsePerDatasourceExternalId: false"
    ]
