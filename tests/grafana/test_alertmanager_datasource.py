"""Under mocks: AMP's Alertmanager as a Grafana data source, and the role that may see alerts and silence them.

Contracts: grafana/grafana pkg/services/ngalert/api/lotex_am.go (the paths Grafana
calls per `implementation`: cortex/mimir prefix `/alertmanager/api/v2/`,
prometheus `/api/v2/`); pkg/services/datasources/service/datasource.go
(`sigV4Auth` in jsonData makes Grafana sign; the `alertmanager` type signs for
service `aps`); AMP user guide, AMP-APIReference-ListAlertManagerSilences and
PutAlertManagerSilences (`/workspaces/<id>/alertmanager/api/v2/silences`);
Amazon Managed Grafana guide amp-configure-alerts (the aps:*AlertManager*
actions an Alertmanager data source on AMP needs).
"""

from __future__ import annotations

import json

from infra.config.stackfile import stack_settings
from planner.engine import Plan
from tests.conftest import plan_of

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
WORKSPACE = "aws:amp/workspace:Workspace"
# lotex_am.go: the path Grafana appends to the data source URL for each implementation.
GRAFANA_SILENCES_PATH = {
    "cortex": "/alertmanager/api/v2/silences",
    "mimir": "/alertmanager/api/v2/silences",
    "prometheus": "/api/v2/silences",
}


def workspace_endpoint(plan: Plan) -> str:
    """The workspace's own endpoint output (AMP: https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/)."""
    return str(plan.one(WORKSPACE).outputs["prometheusEndpoint"]).rstrip("/")


def test_grafana_calls_amps_own_silences_path_for_this_workspace(stack_plan: Plan) -> None:
    source = stack_plan.one(DATA_SOURCE, "grafana-alertmanager-datasource").inputs
    json_data = json.loads(source["jsonDataEncoded"])
    assert source["type"] == "alertmanager"
    called = source["url"] + GRAFANA_SILENCES_PATH[json_data["implementation"]]
    # AMP's ListAlertManagerSilences / PutAlertManagerSilences path under the workspace.
    assert called == f"{workspace_endpoint(stack_plan)}/alertmanager/api/v2/silences"


def test_the_data_source_signs_through_the_same_assumed_role_pattern(stack_plan: Plan) -> None:
    source = stack_plan.one(DATA_SOURCE, "grafana-alertmanager-datasource").inputs
    role = stack_plan.one(ROLE, "grafana-alertmanager-role")
    assert json.loads(source["jsonDataEncoded"]) == {
        "implementation": "cortex",
        "handleGrafanaManagedAlerts": False,
        "sigV4Auth": True,
        "sigV4AuthType": "grafana_assume_role",
        "sigV4AssumeRoleArn": role.outputs["arn"],
        "sigV4Region": "ap-northeast-2",
        "sigV4UsePerDatasourceExternalId": False,
    }
    assert source["accessMode"] == "proxy"
    spec = stack_settings(stack_plan.stack).grafana
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == json.loads(stack_plan.one(ROLE, "grafana-amp-role").inputs["assumeRolePolicy"])["Statement"]
    assert trust[0]["Condition"] == {"StringEquals": {"sts:ExternalId": spec.external_id}}


def test_the_role_may_read_alerts_and_manage_silences_of_this_workspace_and_nothing_else(stack_plan: Plan) -> None:
    policy = json.loads(stack_plan.one(ROLE_POLICY, "grafana-alertmanager-silence").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "SeeAlertsAndSilenceThisWorkspaceOnly",
            "Effect": "Allow",
            "Action": [
                "aps:ListAlertManagerAlerts",
                "aps:ListAlertManagerAlertGroups",
                "aps:GetAlertManagerStatus",
                "aps:ListAlertManagerSilences",
                "aps:GetAlertManagerSilence",
                "aps:PutAlertManagerSilences",
                "aps:DeleteAlertManagerSilence",
            ],
            "Resource": stack_plan.one(WORKSPACE).outputs["arn"],
        }
    ]


def test_the_tools_url_is_the_workspaces_alertmanager() -> None:
    plan = plan_of("prod")
    assert plan.outputs["amp_alertmanager_url"] == f"{workspace_endpoint(plan)}/alertmanager"
