"""Deploy annotations: a Grafana service account that may only post annotations, and every dashboard showing deploys.

Contracts: terraform-provider-grafana resource_service_account.go (basic
role one of Viewer, Editor, Admin, None: `None` grants nothing by itself);
grafana/grafana pkg/api/api.go and pkg/services/accesscontrol/models.go
(an annotation outside any dashboard needs `annotations:create` on
`annotations:type:organization`); Grafana's annotation query on its built-in
data source (`-- Grafana --`, target type `tags`, matchAny false: every tag).
"""

from __future__ import annotations

import json

from dashboards.common import DEPLOY_TAG
from planner.engine import SECRET, Plan
from tests.conftest import plan_of

ACCOUNT = "grafana:oss/serviceAccount:ServiceAccount"
ROLE = "grafana:enterprise/role:Role"
ASSIGNMENT = "grafana:enterprise/roleAssignmentItem:RoleAssignmentItem"
TOKEN = "grafana:oss/serviceAccountToken:ServiceAccountToken"
DASHBOARD = "grafana:oss/dashboard:Dashboard"


def test_the_poster_has_no_basic_role_and_may_only_create_organization_annotations(stack_plan: Plan) -> None:
    prefix = f"screener-{stack_plan.stack}"
    account = stack_plan.one(ACCOUNT, "grafana-deploy-annotations-account")
    assert account.inputs["role"] == "None" and account.inputs["name"] == f"{prefix}-deploy-annotations"
    role = stack_plan.one(ROLE, "grafana-deploy-annotations-role")
    assert role.inputs["permissions"] == [{"action": "annotations:create", "scope": "annotations:type:organization"}]
    assert role.inputs["global"] is False
    # The role goes to this account (by the account's ID, which the assignment and the token both wait for).
    assignment = stack_plan.one(ASSIGNMENT, "grafana-deploy-annotations-assignment")
    assert assignment.inputs["roleUid"] == role.inputs["uid"] == f"{prefix}-annotator"
    assert set(assignment.depends_on) == {account.urn, role.urn}
    token = stack_plan.one(TOKEN, "grafana-deploy-annotations-token")
    assert token.depends_on == [account.urn]
    assert token.inputs["serviceAccountId"] == assignment.inputs["serviceAccountId"]


def test_the_token_is_a_secret_output_never_in_plain_text(stack_plan: Plan) -> None:
    token = stack_plan.one(TOKEN, "grafana-deploy-annotations-token")
    assert token.outputs["key"] == SECRET
    assert stack_plan.outputs["grafana_deploy_annotation_token"] == SECRET
    recorded = json.dumps([repr(r.inputs) + repr(r.outputs) for r in stack_plan.resources]) + repr(stack_plan.outputs)
    assert "glsa_" not in recorded  # the fake token's prefix, as Grafana's


def test_every_dashboard_shows_this_environments_deploys(stack_plan: Plan) -> None:
    dashboards = stack_plan.of_type(DASHBOARD)
    assert len(dashboards) >= 7
    for dashboard in dashboards:
        annotations = json.loads(dashboard.inputs["configJson"])["annotations"]["list"]
        (deploys,) = [a for a in annotations if a["name"] == "Deploys"]
        assert deploys["datasource"] == {"type": "grafana", "uid": "-- Grafana --"}
        assert deploys["enable"] is True
        assert deploys["target"] == {
            "type": "tags",
            "tags": [DEPLOY_TAG, stack_plan.stack],
            "matchAny": False,
            "limit": 100,
        }


def test_the_grafana_url_output_is_the_stacks_own() -> None:
    assert plan_of("prod").outputs["grafana_url"] == "https://screener.grafana.net"
