"""Each collector mode under the mock engine: IAM, Helm values, the managed scraper, skipping."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from infra.collection import charts
from infra.collection.statsd_mapping import mapping_document
from infra.components.collection_scraper import require_access_entries
from infra.config import ConfigError
from infra.config.stackfile import SecretValue
from planner.engine import SECRET, Plan, PlannedResource
from tests.collection.helpers import (
    COLLECTION,
    CONFIG_MAP,
    PROVIDER,
    RELEASE,
    ROLE,
    ROLE_POLICY,
    SCRAPER,
    agent_config_text,
    collection_of,
    releases,
)
from tests.collection.helpers import (
    SECRET as K8S_SECRET,
)
from tests.conftest import plan_of

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
AGENT_SA = "system:serviceaccount:monitoring:prometheus-agent"


def _agent_role(plan: Plan) -> Any:
    return plan.one(ROLE, "collection-agent-role")


def test_agent_role_trusts_only_its_service_account_through_the_cluster_oidc_provider() -> None:
    plan = plan_of("staging")
    (statement,) = json.loads(_agent_role(plan).inputs["assumeRolePolicy"])["Statement"]
    federated = statement["Principal"]["Federated"]
    assert federated.startswith(f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/")
    issuer = federated.split(":oidc-provider/")[1]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {f"{issuer}:sub": AGENT_SA, f"{issuer}:aud": "sts.amazonaws.com"}}


def test_agent_may_only_remote_write_to_this_workspace() -> None:
    plan = plan_of("staging")
    policy = plan.one(ROLE_POLICY, "collection-agent-remote-write")
    assert policy.inputs["role"] == _agent_role(plan).inputs["name"] == "screener-staging-collector"
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["aps:RemoteWrite"], "Resource": plan.outputs["amp_workspace_arn"]}
    ]


def test_agent_release_runs_prometheus_in_agent_mode_under_the_irsa_service_account() -> None:
    plan = plan_of("staging")
    release = releases(plan)["collector"]
    values = release.inputs["values"]
    assert (release.inputs["chart"], release.inputs["version"]) == ("prometheus", charts.PROMETHEUS.version)
    assert release.inputs["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    assert "--agent" in values["server"]["defaultFlagsOverride"]
    account = values["serviceAccounts"]["server"]
    assert f"system:serviceaccount:{release.inputs['namespace']}:{account['name']}" == AGENT_SA
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": plan.outputs["collection_role_arn"]}
    assert plan.outputs["collection_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/screener-staging-collector"


def test_agent_remote_writes_to_this_workspace_with_sigv4_in_its_region() -> None:
    plan = plan_of("staging")
    values = releases(plan)["collector"].inputs["values"]
    config_map = plan.one(CONFIG_MAP, "collection-agent-config")
    # The chart mounts `<release>-<configMapOverrideName>`: it must be the ConfigMap we write.
    assert f"collector-{values['server']['configMapOverrideName']}" == config_map.inputs["metadata"]["name"]
    assert config_map.inputs["metadata"]["namespace"] == "monitoring"
    (remote_write,) = yaml.safe_load(agent_config_text(plan))["remote_write"]
    assert remote_write["url"] == plan.outputs["amp_remote_write_url"]
    assert remote_write["sigv4"] == {"region": REGION}


def test_agent_config_scrapes_what_the_component_renders() -> None:
    plan = plan_of("staging")
    agent = yaml.safe_load(agent_config_text(plan))
    rendered = yaml.safe_load(collection_of(plan).inputs["scrapeConfig"])
    assert agent["scrape_configs"] == rendered["scrape_configs"]


def test_managed_scraper_reads_the_cluster_from_two_subnets_and_writes_to_this_workspace() -> None:
    plan = plan_of("prod")
    scraper = plan.one(SCRAPER)
    eks = scraper.inputs["source"]["eks"]
    assert eks["clusterArn"] == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/screener-prod"
    assert eks["subnetIds"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert len(set(eks["subnetIds"])) >= 2
    assert eks["securityGroupIds"] == ["sg-0a1b2c3d4e5f60003"]
    assert scraper.inputs["destination"] == {"amp": {"workspaceArn": plan.outputs["amp_workspace_arn"]}}
    assert plan.outputs["collection_scraper_arn"] == scraper.outputs["arn"]
    # No agent, no agent role: AMP scrapes with its own service-linked role.
    assert "collector" not in releases(plan)
    assert not [r for r in plan.of_type(ROLE) if r.name.startswith("collection")]


def test_managed_scraper_refuses_a_cluster_without_access_entries() -> None:
    require_access_entries("screener-prod", "API_AND_CONFIG_MAP")
    with pytest.raises(ValueError, match="authenticationMode=API_AND_CONFIG_MAP"):
        require_access_entries("screener-prod", "CONFIG_MAP")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_exporters_install_from_pinned_charts_under_the_names_discovery_finds(stack: str) -> None:
    found = releases(plan_of(stack))
    expected = {
        "kube-state-metrics": ("monitoring", charts.KUBE_STATE_METRICS),
        "node-exporter": ("monitoring", charts.NODE_EXPORTER),
        "postgres-exporter": ("screener", charts.POSTGRES_EXPORTER),
        "redis-exporter": ("screener", charts.REDIS_EXPORTER),
        "nginx-exporter": ("screener", charts.NGINX_EXPORTER),
        "airflow-statsd-exporter": ("airflow", charts.STATSD_EXPORTER),
    }
    for name, (namespace, pin) in expected.items():
        release = found[name]
        assert release.inputs["namespace"] == namespace
        assert (release.inputs["chart"], release.inputs["version"]) == (pin.chart, pin.version)
        assert release.inputs["values"]["fullnameOverride"] == name
    mapping = yaml.safe_load(found["airflow-statsd-exporter"].inputs["values"]["statsd"]["mappingConfig"])
    assert mapping == mapping_document()


def collection_secrets(plan: Plan) -> list[PlannedResource]:
    """The Kubernetes Secrets the collection declares (other components, such as error tracking, have theirs)."""
    return [r for r in plan.of_type(K8S_SECRET) if "::monitoring:index:MetricsCollection$" in r.urn]


def test_postgres_exporter_reads_its_dsn_from_an_existing_secret_when_no_config_secret_is_set() -> None:
    plan = plan_of("staging")
    values = releases(plan)["postgres-exporter"].inputs["values"]
    assert values["config"] == {"datasourceSecret": {"name": "postgres-exporter-dsn", "key": "DATA_SOURCE_NAME"}}
    assert collection_secrets(plan) == []


def test_config_secrets_become_kubernetes_secrets_never_helm_values(plan_with: Callable[..., Plan]) -> None:
    dsn = "postgresql://exporter:s3cr3t-pw@db.screener:5432/screener?sslmode=require"
    plan = plan_with(
        "staging",
        {"monitoring:postgresDsn": SecretValue(dsn), "monitoring:redisPassword": SecretValue("r3dis-pw")},
    )
    secrets = {r.inputs["metadata"]["name"]: r for r in collection_secrets(plan)}
    assert set(secrets) == {"postgres-exporter-dsn", "redis-exporter-password"}
    assert secrets["postgres-exporter-dsn"].inputs["stringData"] == SECRET
    assert secrets["postgres-exporter-dsn"].inputs["metadata"]["namespace"] == "screener"
    redis = releases(plan)["redis-exporter"].inputs["values"]
    assert redis["auth"] == {"enabled": True, "secret": {"name": "redis-exporter-password", "key": "password"}}
    everything_visible = json.dumps([r.inputs for r in plan.resources], default=repr)
    assert "s3cr3t-pw" not in everything_visible and "r3dis-pw" not in everything_visible


def test_kubernetes_provider_is_built_from_the_eks_cluster_with_an_exec_token() -> None:
    provider = plan_of("staging").one(PROVIDER, "collection-k8s")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == [
        "eks", "get-token", "--cluster-name", "screener-staging", "--region", REGION,
    ]  # fmt: skip
    assert kubeconfig["clusters"][0]["cluster"]["server"].endswith(f".{REGION}.eks.amazonaws.com")


def test_kubernetes_provider_uses_the_kubeconfig_secret_when_set(plan_with: Callable[..., Plan]) -> None:
    plan = plan_with("staging", {"monitoring:kubeconfig": SecretValue("apiVersion: v1\nkind: Config\n")})
    assert plan.one(PROVIDER, "collection-k8s").inputs["kubeconfig"] == SECRET


def test_dev_declares_only_the_component_with_its_skip_line() -> None:
    plan = plan_of("dev")
    collection = collection_of(plan)
    assert collection.inputs["mode"] == "none"
    assert collection.inputs["skipped"].startswith("mode 'none' in stacks/Pulumi.dev.yaml: no collector")
    assert plan.children_of(collection.urn) == []
    assert plan.of_type(RELEASE) == [] and plan.of_type(SCRAPER) == []
    assert plan.outputs["collection_helm_releases"] == []


def test_in_cluster_without_a_cluster_is_skipped_with_the_setting_to_fix(plan_with: Callable[..., Plan]) -> None:
    collection = yaml.safe_load(plan_of("staging").stack_file.config["monitoring:collection"])
    collection.pop("clusterName")
    plan = plan_with("staging", {"monitoring:collection": collection})
    component = plan.one(COLLECTION)
    assert component.inputs["skipped"].startswith(
        "no cluster: monitoring:collection.clusterName is not set in stacks/Pulumi.staging.yaml"
    )
    assert plan.children_of(component.urn) == []


def test_managed_scraper_below_thirty_seconds_is_refused_naming_the_setting(plan_with: Callable[..., Plan]) -> None:
    collection = yaml.safe_load(plan_of("prod").stack_file.config["monitoring:collection"])
    with pytest.raises(ConfigError) as info:
        plan_with("prod", {"monitoring:collection": {**collection, "scrapeIntervalSeconds": 15}})
    assert info.value.problems == [
        "stacks/Pulumi.prod.yaml: monitoring:collection: mode 'managed-scraper' refuses scrapeIntervalSeconds "
        "below 30 (got 15); raise it"
    ]
