"""The key-policy and trust-policy checks: each against a violating and a compliant document.

Sources: AMP user guide, "Giving Amazon Managed Service for Prometheus permission to send alert
messages to your Amazon SNS topic" (aws:SourceArn/aws:SourceAccount against the confused deputy);
IAM user guide, "The confused deputy problem" (sts:ExternalId for third parties) and "Creating a
role for OIDC federation" (conditions on the provider's `sub` and `aud`).
"""

from __future__ import annotations

import json
from typing import Any

from screener_policies.aws import IAM_ROLE, KMS_KEY, iam_trust_policy_conditioned, kms_key_policy_source_restricted

from tests.conftest import plan_of
from tests.policies.support import args, messages

ACCOUNT = "123456789012"
WORKSPACE_ARN = f"arn:aws:aps:ap-northeast-2:{ACCOUNT}:workspace/ws-1"
ISSUER = "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC"
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}


def key(*statement: dict[str, Any]) -> Any:
    return args(KMS_KEY, {"policy": json.dumps({"Version": "2012-10-17", "Statement": [ADMIN, *statement]})})


def role(*statement: dict[str, Any]) -> Any:
    return args(IAM_ROLE, {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": list(statement)})})


AMP_ENCRYPTS = {
    "Sid": "AmpEncrypts",
    "Effect": "Allow",
    "Principal": {"Service": "aps.amazonaws.com"},
    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
    "Resource": "*",
}
SOURCE = {"ArnEquals": {"aws:SourceArn": WORKSPACE_ARN}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_key_policy_granting_a_service_on_behalf_of_its_source_passes() -> None:
    assert messages(kms_key_policy_source_restricted, key({**AMP_ENCRYPTS, "Condition": SOURCE})) == []


def test_key_policy_granting_a_service_without_source_conditions_is_refused() -> None:
    (message,) = messages(kms_key_policy_source_restricted, key(AMP_ENCRYPTS))
    assert message.startswith(
        "key policy statement AmpEncrypts lets aps.amazonaws.com act without a aws:SourceArn or aws:SourceAccount "
        "condition (confused deputy). Fix: condition the statement on aws:SourceArn"
    )


def test_key_policy_with_only_the_account_is_refused_for_the_missing_arn() -> None:
    only_account = {**AMP_ENCRYPTS, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}
    (message,) = messages(kms_key_policy_source_restricted, key(only_account))
    assert "without a aws:SourceArn condition" in message


def test_the_committed_keys_pass_and_the_old_unconditioned_key_would_not() -> None:
    planned = plan_of("prod").one(KMS_KEY, "notifications-key")
    assert messages(kms_key_policy_source_restricted, args(KMS_KEY, planned.inputs)) == []
    document = json.loads(planned.inputs["policy"])
    for statement in document["Statement"]:
        statement.pop("Condition", None)  # a service grant without source conditions
    found = messages(kms_key_policy_source_restricted, args(KMS_KEY, {"policy": json.dumps(document)}))
    assert len(found) == 2 and all("confused deputy" in m for m in found)


LOGS_ENCRYPTS = {
    "Sid": "LogsEncrypts",
    "Effect": "Allow",
    "Principal": {"Service": "logs.ap-northeast-2.amazonaws.com"},
    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
    "Resource": "*",
}


def test_logs_key_bound_to_named_groups_of_this_account_passes_and_unbound_or_wildcard_is_refused() -> None:
    """CloudWatch Logs user guide, "Encrypt log data ... using AWS KMS": the encryption-context condition."""
    group = f"arn:aws:logs:ap-northeast-2:{ACCOUNT}:log-group:/screener-prod/application"
    bound = {**LOGS_ENCRYPTS, "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [group]}}}
    assert messages(kms_key_policy_source_restricted, key(bound)) == []
    (unbound,) = messages(kms_key_policy_source_restricted, key(LOGS_ENCRYPTS))
    assert "lets logs.ap-northeast-2.amazonaws.com act without" in unbound
    anyone = {**LOGS_ENCRYPTS, "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:*"}}}
    assert len(messages(kms_key_policy_source_restricted, key(anyone))) == 1
    for stack in ("staging", "prod"):
        planned = plan_of(stack).one(KMS_KEY, "logs-key")
        assert messages(kms_key_policy_source_restricted, args(KMS_KEY, planned.inputs)) == [], stack


GRAFANA = {
    "Sid": "Grafana",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::008923505280:root"},
    "Action": "sts:AssumeRole",
}
IRSA = {
    "Sid": "Irsa",
    "Effect": "Allow",
    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
    "Action": "sts:AssumeRoleWithWebIdentity",
}
CHATBOT = {
    "Sid": "Chatbot",
    "Effect": "Allow",
    "Principal": {"Service": "chatbot.amazonaws.com"},
    "Action": "sts:AssumeRole",
}


def test_trust_policies_with_external_id_oidc_claims_and_source_account_pass() -> None:
    assert (
        messages(
            iam_trust_policy_conditioned,
            role(
                {**GRAFANA, "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}},
                {
                    **IRSA,
                    "Condition": {
                        "StringEquals": {
                            f"{ISSUER}:sub": "system:serviceaccount:m:agent",
                            f"{ISSUER}:aud": "sts.amazonaws.com",
                        }
                    },
                },
                {**CHATBOT, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
            ),
        )
        == []
    )


def test_another_account_without_an_external_id_is_refused() -> None:
    (message,) = messages(iam_trust_policy_conditioned, role(GRAFANA))
    assert message.startswith(
        "trust policy statement Grafana lets arn:aws:iam::008923505280:root assume the role without an "
        "sts:ExternalId condition"
    )


def test_an_oidc_principal_without_sub_is_refused() -> None:
    aud_only = {**IRSA, "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}}
    (message,) = messages(iam_trust_policy_conditioned, role(aud_only))
    assert message == (
        f"trust policy statement Irsa lets any identity of {ISSUER} assume the role: no {ISSUER}:sub condition. "
        "Fix: add StringEquals on the token's sub (the service account or workflow) and aud."
    )


def test_a_service_without_source_account_and_anyone_are_refused() -> None:
    (service,) = messages(iam_trust_policy_conditioned, role(CHATBOT))
    assert "lets chatbot.amazonaws.com assume the role on anyone's behalf" in service
    (anyone,) = messages(iam_trust_policy_conditioned, role({**GRAFANA, "Principal": "*"}))
    assert anyone == "trust policy statement Grafana lets anyone assume the role. Fix: name the principal."


def test_every_committed_role_passes() -> None:
    for stack in ("dev", "staging", "prod"):
        for planned in plan_of(stack).of_type(IAM_ROLE):
            assert messages(iam_trust_policy_conditioned, args(IAM_ROLE, planned.inputs)) == [], planned.name
