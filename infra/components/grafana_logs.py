"""Grafana's view of the logs: a CloudWatch data source on a read-only role, and the Logs dashboard.

The role follows the AMP data source's trust pattern (`grafana_assume_role`:
Grafana Cloud's account assumes it with the stack's external ID); it may only
run Logs Insights queries and read events in this stack's log groups, and list group and metric names
(what Grafana's "Save & test" health check calls).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from dashboards.common import to_json
from dashboards.logs import CLOUDWATCH_DATASOURCE_TYPE
from infra.components.grafana_datasource import GrafanaCloudRoleArgs, grafana_cloud_role
from infra.iam_policy import allow, policy_json

# Read the lines of these groups: query them (Logs Insights), list their fields, read events.
LOGS_READ_ACTIONS = (
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:GetLogGroupFields",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
)
# No resource type exists for these (IAM reference): they read no log content. StopQuery cancels
# our own query; DescribeLogGroups lists group names for the editor's picker. The data source's
# "Save & test" (CheckHealth, grafana/grafana pkg/tsdb/cloudwatch/cloudwatch.go) calls
# cloudwatch:ListMetrics (AWS/Billing EstimatedCharges: metric names only, no values) and
# logs:DescribeLogGroups (Limit 1) and fails when either is denied.
LOGS_UNSCOPED_ACTIONS = ("logs:StopQuery", "logs:DescribeLogGroups", "cloudwatch:ListMetrics")


def logs_read_policy(group_arns: Sequence[str]) -> str:
    return policy_json(
        # The group ARN for queries and fields, its streams for GetLogEvents.
        allow(
            LOGS_READ_ACTIONS, [*group_arns, *(f"{arn}:log-stream:*" for arn in group_arns)], sid="ReadTheseGroupsOnly"
        ),
        allow(LOGS_UNSCOPED_ACTIONS, "*", sid="ActionsWithoutResourceType"),
    )


def cloudwatch_json_data(role_arn: str, region: str, groups: Sequence[tuple[str, str]]) -> str:
    """`groups`: (ARN, name) of the groups Explore opens by default."""
    return json.dumps(
        {
            # Grafana Cloud signs with its own AWS identity and assumes our role: no key is stored in Grafana.
            "authType": "grafana_assume_role",
            # Stack mode, as the AMP data source: omitted, Grafana mints a per-data-source external ID on
            # create that no trust policy written beforehand can match (grafana/grafana pkg awsexternalid:
            # native AWS data sources keep the flag unprefixed, `usePerDatasourceExternalId`).
            "usePerDatasourceExternalId": False,
            "assumeRoleArn": role_arn,
            "defaultRegion": region,
            "logGroups": [{"arn": arn, "name": name} for arn, name in groups],
        },
        sort_keys=True,
    )


@dataclass
class GrafanaLogsArgs:
    name: str
    uid: str
    role: GrafanaCloudRoleArgs
    group_names: Sequence[pulumi.Input[str]]
    group_arns: pulumi.Input[Sequence[str]]
    folder_uid: pulumi.Input[str]
    dashboard: Mapping[str, Any]
    provider: grafana.Provider


class GrafanaLogs(pulumi.ComponentResource):
    """A role Grafana Cloud assumes to read this stack's log groups, the data source using it, the Logs dashboard."""

    uid: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(self, name: str, args: GrafanaLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role, self.read_policy = grafana_cloud_role(
            name,
            args.role,
            "Assumed by Grafana Cloud to query this stack's log groups",
            ("read", pulumi.Output.from_input(args.group_arns).apply(lambda arns: logs_read_policy(list(arns)))),
            child,
        )
        groups = pulumi.Output.all(pulumi.Output.from_input(args.group_arns), *args.group_names).apply(
            lambda parts: list(zip(parts[0], parts[1:], strict=True))
        )
        self.data_source = grafana.oss.DataSource(
            f"{name}-datasource",
            name=args.name,
            uid=args.uid,
            type=CLOUDWATCH_DATASOURCE_TYPE,
            json_data_encoded=pulumi.Output.all(self.role.arn, groups).apply(
                lambda parts: cloudwatch_json_data(parts[0], args.role.region, parts[1])
            ),
            # The role must allow the queries before anyone opens the dashboard.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.read_policy]),
        )
        self.dashboard = grafana.oss.Dashboard(
            f"{name}-dashboard",
            folder=args.folder_uid,
            config_json=to_json(dict(args.dashboard)),
            message="Deployed by Pulumi (monitoring project)",
            overwrite=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.data_source]),
        )
        self.uid = self.data_source.uid
        self.role_arn = self.role.arn
        self.dashboard_url = self.dashboard.url
        self.register_outputs({"uid": self.uid, "role_arn": self.role_arn, "dashboard_url": self.dashboard_url})
