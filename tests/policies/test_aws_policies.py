"""AWS policies: each against a violating and a compliant resource."""

from __future__ import annotations

import json
from typing import Any

import generate_taggable
from screener_policies.aws import (
    AMP_WORKSPACE,
    AMP_WORKSPACE_CONFIGURATION,
    SNS_TOPIC,
    SNS_TOPIC_POLICY,
    amp_retention_at_least_15_days,
    amp_workspace_protected_in_prod,
    aws_required_tags,
    iam_no_wildcard_action,
    iam_no_wildcard_resource_for_known_arns,
    sns_topic_customer_managed_key,
    sns_topic_policy_source_restricted,
)

from infra.config.stackfile import REPO_ROOT
from tests.policies.support import args, messages

WORKSPACE_ARN = "arn:aws:aps:ap-northeast-2:123456789012:workspace/ws-1"
TOPIC_ARN = "arn:aws:sns:ap-northeast-2:123456789012:alerts-critical"
TAGS = {"environment": "dev", "service": "screener-monitoring", "owner": "platform-team"}


def iam(*statement: dict[str, Any], type_token: str = "aws:iam/rolePolicy:RolePolicy") -> Any:
    return args(
        type_token, {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statement)})}
    )


def allow(action: Any, resource: Any = WORKSPACE_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_iam_policy_naming_its_actions_passes() -> None:
    assert messages(iam_no_wildcard_action, iam(allow(["aps:RemoteWrite", "aps:QueryMetrics"]))) == []


def test_iam_policy_allowing_every_action_is_refused() -> None:
    (message,) = messages(iam_no_wildcard_action, iam(allow("*", Sid="Admin")))
    assert message.startswith("policy statement Admin: allows *. Fix: list the actions the component needs")


def test_iam_policy_allowing_a_whole_service_is_refused() -> None:
    (message,) = messages(iam_no_wildcard_action, iam(allow(["aps:*", "sns:Publish"])))
    assert "allows aps:*" in message


def test_iam_allow_with_not_action_is_refused() -> None:
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    (message,) = messages(iam_no_wildcard_action, iam(statement))
    assert "Allow with NotAction grants every other action" in message


def test_iam_wildcard_in_a_deny_statement_is_allowed() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert messages(iam_no_wildcard_action, iam(deny)) == []


def test_inline_role_policies_are_checked_too() -> None:
    role = args(
        "aws:iam/role:Role",
        {"inlinePolicies": [{"name": "write", "policy": json.dumps({"Statement": [allow("*")]})}]},
    )
    (message,) = messages(iam_no_wildcard_action, role)
    assert message.startswith("inlinePolicies[0] 'write' statement 0: allows *")


def test_iam_policy_that_does_not_parse_is_refused() -> None:
    broken = args("aws:iam/policy:Policy", {"policy": "{not json"})
    (message,) = messages(iam_no_wildcard_action, broken)
    assert message.startswith("policy: the policy document does not parse")


def test_amp_actions_on_the_workspace_arn_pass() -> None:
    assert messages(iam_no_wildcard_resource_for_known_arns, iam(allow(["aps:QueryMetrics", "aps:GetSeries"]))) == []


def test_amp_actions_on_every_resource_are_refused() -> None:
    (message,) = messages(iam_no_wildcard_resource_for_known_arns, iam(allow(["aps:QueryMetrics", "sns:Publish"], "*")))
    assert message.startswith('policy statement 0: aps:QueryMetrics, sns:Publish on Resource "*"')
    assert "Fix: set Resource to the AMP workspace ARN or the alert topic ARN" in message


def test_list_actions_without_resource_level_support_may_use_star() -> None:
    listing = iam(allow(["aps:ListWorkspaces", "sns:ListTopics", "ec2:DescribeSubnets"], "*"))
    assert messages(iam_no_wildcard_resource_for_known_arns, listing) == []


def test_topic_encrypted_with_a_customer_managed_key_passes() -> None:
    key = "arn:aws:kms:ap-northeast-2:123456789012:key/1234"
    assert messages(sns_topic_customer_managed_key, args(SNS_TOPIC, {"name": "t", "kmsMasterKeyId": key})) == []


def test_unencrypted_topic_is_refused() -> None:
    (message,) = messages(sns_topic_customer_managed_key, args(SNS_TOPIC, {"name": "alerts"}))
    assert message.startswith("SNS topic 'alerts' is not encrypted")


def test_topic_on_the_aws_managed_sns_key_is_refused() -> None:
    (message,) = messages(
        sns_topic_customer_managed_key, args(SNS_TOPIC, {"name": "t", "kmsMasterKeyId": "alias/aws/sns"})
    )
    assert "uses the AWS-managed key alias/aws/sns" in message


def topic_policy(*statement: dict[str, Any]) -> Any:
    return args(SNS_TOPIC_POLICY, {"arn": TOPIC_ARN, "policy": json.dumps({"Statement": list(statement)})})


AMP_PUBLISH = {
    "Sid": "AmpPublishes",
    "Effect": "Allow",
    "Principal": {"Service": "aps.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC_ARN,
}


def test_service_grant_conditioned_on_source_arn_and_account_passes() -> None:
    condition = {"ArnEquals": {"aws:SourceArn": WORKSPACE_ARN}, "StringEquals": {"aws:SourceAccount": "123456789012"}}
    owner = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sns:*"}
    assert (
        messages(sns_topic_policy_source_restricted, topic_policy({**AMP_PUBLISH, "Condition": condition}, owner)) == []
    )


def test_service_grant_without_conditions_is_refused() -> None:
    (message,) = messages(sns_topic_policy_source_restricted, topic_policy(AMP_PUBLISH))
    assert message.startswith(
        "topic policy statement AmpPublishes lets aps.amazonaws.com act without a aws:SourceArn or "
        "aws:SourceAccount condition"
    )


def test_grant_to_everyone_with_only_source_account_is_refused() -> None:
    everyone = {**AMP_PUBLISH, "Principal": "*", "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}}}
    (message,) = messages(sns_topic_policy_source_restricted, topic_policy(everyone))
    assert "lets * act without a aws:SourceArn condition" in message


def test_retention_of_fifteen_days_passes_and_unset_means_amps_default() -> None:
    assert (
        messages(amp_retention_at_least_15_days, args(AMP_WORKSPACE_CONFIGURATION, {"retentionPeriodInDays": 15.0}))
        == []
    )
    assert messages(amp_retention_at_least_15_days, args(AMP_WORKSPACE_CONFIGURATION, {"workspaceId": "ws-1"})) == []


def test_retention_below_fifteen_days_is_refused() -> None:
    (message,) = messages(
        amp_retention_at_least_15_days, args(AMP_WORKSPACE_CONFIGURATION, {"retentionPeriodInDays": 7.0})
    )
    assert message.startswith("AMP retention is 7 days, below the 15 days the spec requires")


def test_protected_prod_workspace_passes() -> None:
    prod = args(AMP_WORKSPACE, {"tags": {**TAGS, "environment": "prod"}}, stack="prod", protect=True)
    assert messages(amp_workspace_protected_in_prod, prod) == []


def test_unprotected_prod_workspace_is_refused() -> None:
    prod = args(AMP_WORKSPACE, {"tags": {**TAGS, "environment": "prod"}}, stack="prod")
    (message,) = messages(amp_workspace_protected_in_prod, prod)
    assert message.startswith("the prod AMP workspace is not protected")
    assert "set amp.protect: true in stacks/Pulumi.prod.yaml" in message


def test_environment_tag_decides_prod_even_in_a_differently_named_stack() -> None:
    tagged_prod = args(AMP_WORKSPACE, {"tags": {**TAGS, "environment": "prod"}}, stack="prod-eu")
    assert len(messages(amp_workspace_protected_in_prod, tagged_prod)) == 1
    assert messages(amp_workspace_protected_in_prod, args(AMP_WORKSPACE, {"tags": TAGS})) == []


def test_taggable_resource_with_the_three_tags_passes() -> None:
    assert messages(aws_required_tags, args(SNS_TOPIC, {"tags": {**TAGS, "component": "notifications"}})) == []


def test_taggable_resource_missing_owner_is_refused() -> None:
    tags = {k: v for k, v in TAGS.items() if k != "owner"}
    (message,) = messages(aws_required_tags, args("aws:kms/key:Key", {"tags": tags}, name="alerts-key"))
    assert message == "Key 'alerts-key' lacks tag(s) owner. Fix: pass tags=config.tags(<component>) when creating it."


def test_taggable_resource_without_tags_names_all_three() -> None:
    (message,) = messages(aws_required_tags, args("aws:cloudwatch/logGroup:LogGroup", {"name": "g"}))
    assert "lacks tag(s) environment, service, owner" in message


def test_resources_that_take_no_tags_are_not_asked_for_them() -> None:
    assert messages(aws_required_tags, args("aws:iam/rolePolicy:RolePolicy", {"policy": "{}"})) == []
    assert messages(aws_required_tags, args(AMP_WORKSPACE_CONFIGURATION, {})) == []


def test_taggable_type_list_matches_the_installed_pulumi_aws() -> None:
    committed = (REPO_ROOT / "policies" / "screener_policies" / "taggable_aws.py").read_text()
    assert committed == generate_taggable.generate(), "run `make policy-types` after upgrading pulumi-aws"
