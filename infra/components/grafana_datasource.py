"""The AMP data source in Grafana Cloud, and the AWS role Grafana assumes to query AMP."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumiverse_grafana as grafana

from infra.iam_policy import allow, policy_json

AMP_PLUGIN = "grafana-amazonprometheus-datasource"
# Read-only query actions: the data source never writes rules or silences
# (rules and Alertmanager are managed by code in the AMP component).
AMP_QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata")


@dataclass(frozen=True)
class GrafanaCloudRoleArgs:
    """The AWS role a Grafana Cloud data source assumes, and the region its queries go to.

    Every data source of the stack (AMP, its Alertmanager, CloudWatch Logs) trusts
    the same account and external ID: they are the Grafana stack's, not the data source's.
    """

    role_name: str
    grafana_aws_account_id: str
    external_id: str
    region: str
    tags: Mapping[str, str]


@dataclass
class WorkspaceDataSourceArgs:
    """A Grafana data source on one AMP workspace, signed with SigV4 through a role Grafana Cloud assumes."""

    name: str
    uid: str
    workspace_arn: pulumi.Input[str]
    prometheus_endpoint: pulumi.Input[str]
    role: GrafanaCloudRoleArgs
    provider: grafana.Provider


@dataclass
class GrafanaAmpDataSourceArgs(WorkspaceDataSourceArgs):
    plugin_version: str
    # Plugin installation goes through the Cloud API: it needs the stack slug
    # and a provider that holds a Cloud access-policy token.
    install_plugin_on_stack: str | None = None


def trust_policy(grafana_aws_account_id: str, external_id: str) -> str:
    """Only Grafana Cloud's account may assume the role, and only with the Grafana stack's external ID.

    With Grafana Assume Role, Grafana supplies the external ID, not the user
    (grafana/grafana docs/sources/datasources/aws-cloudwatch/aws-authentication:
    "Grafana is responsible for supplying ... the external ID ... unique to your
    grafana instance"); for a SigV4 data source it is the instance-wide
    AWS_AUTH_EXTERNAL_ID (grafana/grafana-aws-sdk pkg/awsds/authSettings.go,
    pkg/awsds/external_id.go). Every Pulumi stack on one Grafana stack therefore
    trusts the same value.
    """
    return policy_json(
        {
            "Sid": "GrafanaCloudAssumesWithExternalId",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{grafana_aws_account_id}:root"},
            "Action": "sts:AssumeRole",
            # The external ID is what stops another Grafana Cloud tenant from
            # pointing its own data source at this role (confused deputy).
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )


def workspace_policy(sid: str, actions: Sequence[str], workspace_arn: str) -> str:
    """An inline policy allowing `actions` on one AMP workspace and nothing else."""
    return policy_json(allow(actions, workspace_arn, sid=sid))


def query_policy(workspace_arn: str) -> str:
    return workspace_policy("QueryThisWorkspaceOnly", AMP_QUERY_ACTIONS, workspace_arn)


def grafana_cloud_role(
    name: str,
    args: GrafanaCloudRoleArgs,
    description: str,
    policy: tuple[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role only Grafana Cloud's account may assume, with this stack's external ID, and its one inline policy.

    `name` is the owning component's; the role is `<name>-role`, the policy `<name>-<policy[0]>`.
    """
    role = aws.iam.Role(
        f"{name}-role",
        name=args.role_name,
        description=description,
        assume_role_policy=trust_policy(args.grafana_aws_account_id, args.external_id),
        # Grafana assumes for one query burst; an hour is the shortest AWS allows.
        max_session_duration=3600,
        tags=dict(args.tags),
        opts=opts,
    )
    suffix, document = policy
    return role, aws.iam.RolePolicy(f"{name}-{suffix}", role=role.id, policy=document, opts=opts)


def sigv4_assume_role(role_arn: str, region: str) -> dict[str, Any]:
    """jsonData of a data source signed through Grafana's SigV4 middleware with Grafana Assume Role.

    Grafana Cloud signs with its own AWS identity and assumes our role: no AWS key is
    ever stored in Grafana. Stack mode, explicitly: with Grafana's per-data-source
    external IDs switched on, a new data source otherwise gets
    "<stack id>-<uid>-<16 random hex>", minted by the server after create, which no
    trust policy written beforehand can match (grafana/grafana pkg awsexternalid:
    "On create, per-DS mode is the default when the flag is omitted"; an explicit
    false is stack mode).
    """
    return {
        "sigV4Auth": True,
        "sigV4AuthType": "grafana_assume_role",
        "sigV4AssumeRoleArn": role_arn,
        "sigV4Region": region,
        "sigV4UsePerDatasourceExternalId": False,
    }


def amp_json_data(role_arn: str, region: str) -> str:
    return json.dumps(
        {
            **sigv4_assume_role(role_arn, region),
            # POST keeps long PromQL (SLO burn rates) out of URL length limits.
            "httpMethod": "POST",
            # Rules live in AMP and are managed by code; the UI must not edit them.
            "manageAlerts": False,
            "timeInterval": "30s",
        },
        sort_keys=True,
    )


class GrafanaAmpDataSource(pulumi.ComponentResource):
    """An IAM role Grafana Cloud assumes to query one AMP workspace, and the data source using it."""

    uid: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: GrafanaAmpDataSourceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaAmpDataSource", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.role, self.query_policy = grafana_cloud_role(
            name,
            args.role,
            "Assumed by Grafana Cloud to query the AMP workspace",
            ("query", pulumi.Output.from_input(args.workspace_arn).apply(query_policy)),
            child,
        )

        grafana_child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        depends: list[pulumi.Resource] = [self.query_policy]
        self.plugin: grafana.cloud.PluginInstallation | None = None
        if args.install_plugin_on_stack:
            self.plugin = grafana.cloud.PluginInstallation(
                f"{name}-plugin",
                stack_slug=args.install_plugin_on_stack,
                slug=AMP_PLUGIN,
                version=args.plugin_version,
                opts=grafana_child,
            )
            depends.append(self.plugin)

        self.data_source = grafana.oss.DataSource(
            f"{name}-datasource",
            name=args.name,
            uid=args.uid,
            type=AMP_PLUGIN,
            # The plugin wants the workspace endpoint and appends api/v1/... itself.
            url=pulumi.Output.from_input(args.prometheus_endpoint).apply(lambda url: url.rstrip("/")),
            access_mode="proxy",
            json_data_encoded=self.role.arn.apply(lambda arn: amp_json_data(arn, args.role.region)),
            # The role must allow the query before Grafana runs its health check.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends),
        )

        self.uid = self.data_source.uid
        self.role_arn = self.role.arn
        self.register_outputs({"uid": self.uid, "role_arn": self.role_arn})
