"""The cross-resource policy: AMP can publish to every topic its Alertmanager uses."""

from __future__ import annotations

import json
from typing import Any

import yaml
from pulumi_policy import StackValidationArgs
from screener_policies.stack import amp_can_publish_to_alert_topics

from tests.policies.support import stack_resource

ACCOUNT = "123456789012"
WORKSPACE_ARN = f"arn:aws:aps:ap-northeast-2:{ACCOUNT}:workspace/ws-1"
TOPIC_ARN = f"arn:aws:sns:ap-northeast-2:{ACCOUNT}:alerts-critical"
KEY_ARN = f"arn:aws:kms:ap-northeast-2:{ACCOUNT}:key/k-1"


def document(*statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statement)})


AMP_PUBLISH = {
    "Effect": "Allow",
    "Principal": {"Service": "aps.amazonaws.com"},
    "Action": ["sns:Publish", "sns:GetTopicAttributes"],
    "Resource": TOPIC_ARN,
    "Condition": {"ArnEquals": {"aws:SourceArn": WORKSPACE_ARN}, "StringEquals": {"aws:SourceAccount": ACCOUNT}},
}
AMP_USES_KEY = {
    "Effect": "Allow",
    "Principal": {"Service": "aps.amazonaws.com"},
    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
    "Resource": "*",
}


def stack(
    *,
    topic_policy: dict[str, Any] = AMP_PUBLISH,
    key_policy: str | None = document(AMP_USES_KEY),
    key_reference: str = "alias/screener-alerts",
    topic_arn_in_config: str = TOPIC_ARN,
    fifo: bool = False,
) -> StackValidationArgs:
    config = {
        "route": {"receiver": "critical"},
        "receivers": [
            {
                "name": "critical",
                "sns_configs": [{"topic_arn": topic_arn_in_config, "sigv4": {"region": "ap-northeast-2"}}],
            }
        ],
    }
    key_props: dict[str, Any] = {"arn": KEY_ARN, "keyId": "k-1"}
    if key_policy is not None:
        key_props["policy"] = key_policy
    return StackValidationArgs(
        [
            stack_resource("aws:amp/workspace:Workspace", "amp-workspace", {"arn": WORKSPACE_ARN}),
            stack_resource(
                "aws:amp/alertManagerDefinition:AlertManagerDefinition",
                "alertmanager",
                {"workspaceId": "ws-1", "definition": yaml.safe_dump({"alertmanager_config": yaml.safe_dump(config)})},
            ),
            stack_resource("aws:kms/key:Key", "alerts-key", key_props),
            stack_resource(
                "aws:kms/alias:Alias", "alerts-key-alias", {"name": "alias/screener-alerts", "targetKeyId": "k-1"}
            ),
            stack_resource(
                "aws:sns/topic:Topic",
                "critical",
                {"arn": TOPIC_ARN, "kmsMasterKeyId": key_reference, **({"fifoTopic": True} if fifo else {})},
            ),
            stack_resource(
                "aws:sns/topicPolicy:TopicPolicy",
                "critical-policy",
                {"arn": TOPIC_ARN, "policy": document(topic_policy)},
            ),
        ]
    )


def reported(validation_args: StackValidationArgs) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append((message, urn or ""))

    amp_can_publish_to_alert_topics(validation_args, report_violation)
    return found


def test_topic_with_amp_grant_and_a_key_amp_may_use_passes() -> None:
    assert reported(stack()) == []


def test_key_named_by_arn_instead_of_alias_is_found_too() -> None:
    assert reported(stack(key_reference=KEY_ARN)) == []


def test_topic_whose_policy_does_not_admit_amp_is_refused() -> None:
    cloudwatch_only = {**AMP_PUBLISH, "Principal": {"Service": "cloudwatch.amazonaws.com"}}
    ((message, urn),) = reported(stack(topic_policy=cloudwatch_only))
    assert message.startswith(f"no topic policy on {TOPIC_ARN} lets aps.amazonaws.com sns:Publish from {WORKSPACE_ARN}")
    assert urn.endswith("aws:sns/topic:Topic::critical")


def test_topic_policy_admitting_another_workspace_is_refused() -> None:
    other = {**AMP_PUBLISH, "Condition": {"ArnEquals": {"aws:SourceArn": WORKSPACE_ARN.replace("ws-1", "ws-2")}}}
    ((message, _),) = reported(stack(topic_policy=other))
    assert "so every notification fails with 'no resource-based policy allows the SNS:Publish action'" in message


def test_key_without_a_grant_to_amp_is_refused() -> None:
    account_only = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}
    ((message, urn),) = reported(stack(key_policy=document(account_only)))
    assert message.startswith(f"the KMS key of alert topic {TOPIC_ARN} does not let aps.amazonaws.com use it")
    assert urn.endswith("aws:kms/key:Key::alerts-key")


def test_key_with_the_default_key_policy_is_refused() -> None:
    ((message, _),) = reported(stack(key_policy=None))
    assert "does not let aps.amazonaws.com use it" in message


def test_alertmanager_publishing_to_a_topic_outside_the_stack_is_refused() -> None:
    outside = f"arn:aws:sns:ap-northeast-2:{ACCOUNT}:someone-elses-topic"
    ((message, _),) = reported(stack(topic_arn_in_config=outside))
    assert message.startswith(f"Alertmanager publishes to {outside}, which this stack does not manage")


def test_fifo_alert_topic_is_refused() -> None:
    ((message, _),) = reported(stack(fifo=True))
    assert "is FIFO; AMP publishes to standard topics only" in message
