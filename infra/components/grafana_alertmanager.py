"""AMP's Alertmanager as a Grafana data source: the on-call sees what fires and silences it in Grafana.

Grafana's core `alertmanager` data source signs with SigV4 for the `aps`
service when `jsonData.sigV4Auth` is set (grafana/grafana
pkg/services/datasources/service/datasource.go, `awsServiceNamespace`:
DS_ALERTMANAGER -> "aps"; its ConfigEditor offers the SigV4 settings of
@grafana/aws-sdk). With implementation `cortex`, Grafana calls
`<url>/alertmanager/api/v2/{alerts,alerts/groups,silences,silence/<id>,status}`
(pkg/services/ngalert/api/lotex_am.go), which is AMP's Alertmanager API when
`<url>` is the workspace endpoint (`/workspaces/<id>/alertmanager/api/v2/...`,
AMP user guide, ListAlertManagerSilences / PutAlertManagerSilences). The role
follows the AMP data source's assume-role pattern and may only read alerts and
manage silences of this one workspace (the actions Amazon Managed Grafana's
guide lists for an Alertmanager data source on AMP, without aps:ListRules).
"""

from __future__ import annotations

import json

import pulumi
import pulumiverse_grafana as grafana

from infra.components.grafana_datasource import (
    WorkspaceDataSourceArgs,
    grafana_cloud_role,
    sigv4_assume_role,
    workspace_policy,
)

ALERTMANAGER_TYPE = "alertmanager"
# Grafana's path table for this implementation is the one that matches AMP's API.
IMPLEMENTATION = "cortex"
ALERTMANAGER_ACTIONS = (
    "aps:ListAlertManagerAlerts",
    "aps:ListAlertManagerAlertGroups",
    "aps:GetAlertManagerStatus",
    "aps:ListAlertManagerSilences",
    "aps:GetAlertManagerSilence",
    "aps:PutAlertManagerSilences",
    "aps:DeleteAlertManagerSilence",
)


def silence_policy(workspace_arn: str) -> str:
    return workspace_policy("SeeAlertsAndSilenceThisWorkspaceOnly", ALERTMANAGER_ACTIONS, workspace_arn)


def alertmanager_json_data(role_arn: str, region: str) -> str:
    return json.dumps(
        {
            "implementation": IMPLEMENTATION,
            # Grafana's own alerts have their own Alertmanager; AMP's only receives AMP's rules.
            "handleGrafanaManagedAlerts": False,
            # As the AMP data source: Grafana Assume Role, in the Grafana stack's external-ID mode.
            **sigv4_assume_role(role_arn, region),
        },
        sort_keys=True,
    )


class GrafanaAlertmanagerDataSource(pulumi.ComponentResource):
    """A role Grafana Cloud assumes to see and silence one workspace's alerts, and the data source using it."""

    uid: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: WorkspaceDataSourceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaAlertmanagerDataSource", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role, self.policy = grafana_cloud_role(
            name,
            args.role,
            "Assumed by Grafana Cloud to list alerts and manage silences in the AMP Alertmanager",
            ("silence", pulumi.Output.from_input(args.workspace_arn).apply(silence_policy)),
            child,
        )
        self.url = pulumi.Output.from_input(args.prometheus_endpoint).apply(lambda url: url.rstrip("/"))
        self.data_source = grafana.oss.DataSource(
            f"{name}-datasource",
            name=args.name,
            uid=args.uid,
            type=ALERTMANAGER_TYPE,
            url=self.url,
            access_mode="proxy",
            json_data_encoded=self.role.arn.apply(lambda arn: alertmanager_json_data(arn, args.role.region)),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.policy]),
        )
        self.uid = self.data_source.uid
        self.role_arn = self.role.arn
        self.register_outputs({"uid": self.uid, "role_arn": self.role_arn, "url": self.url})
