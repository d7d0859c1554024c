"""The trust-policy check on GitHub Actions' OIDC principal: an audience, and a subject naming one repository.

Sources: GitHub, "Configuring OpenID Connect in Amazon Web Services"
(https://docs.github.com/en/actions/how-tos/secure-your-work/security-harden-deployments/oidc-in-aws):
the trust policy conditions `token.actions.githubusercontent.com:aud` (sts.amazonaws.com) and `:sub`;
GitHub's OIDC reference (https://docs.github.com/en/actions/reference/security/oidc): the subject is
`repo:OWNER/REPO:<context>`, so `repo:OWNER/*` or `repo:*` lets other repositories' workflows in.
IAM user guide, "Condition operators": StringNotEquals matches every other value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from screener_policies.aws import IAM_ROLE, iam_trust_policy_conditioned

from tests.policies.support import args, messages

ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
SUBJECT = "repo:screener-kr/screener-monitoring:environment:prod"


def role(condition: dict[str, Any]) -> Any:
    statement = {
        "Sid": "GitHub",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }
    return args(IAM_ROLE, {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})})


def test_a_trust_with_the_audience_and_one_repositorys_subject_passes() -> None:
    trust = role({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": [SUBJECT]}})
    assert messages(iam_trust_policy_conditioned, trust) == []


@pytest.mark.parametrize("subject", ["repo:screener-kr/screener-monitoring@5678:ref:refs/heads/main"])
def test_a_subject_with_immutable_ids_passes(subject: str) -> None:
    trust = role({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subject}})
    assert messages(iam_trust_policy_conditioned, trust) == []


def test_a_subject_without_an_audience_is_refused() -> None:
    (message,) = messages(iam_trust_policy_conditioned, role({"StringEquals": {f"{ISSUER}:sub": SUBJECT}}))
    assert message == (
        f"trust policy statement GitHub lets any identity of {ISSUER} assume the role: no {ISSUER}:aud condition. "
        "Fix: add StringEquals on the token's sub (the service account or workflow) and aud."
    )


def test_an_audience_under_a_negated_operator_is_no_audience_condition() -> None:
    trust = role({"StringEquals": {f"{ISSUER}:sub": SUBJECT}, "StringNotEquals": {f"{ISSUER}:aud": "x"}})
    (message,) = messages(iam_trust_policy_conditioned, trust)
    assert f"no {ISSUER}:aud condition" in message


@pytest.mark.parametrize(
    "subject",
    [
        "repo:screener-kr/*:environment:prod",
        "repo:screener-kr/*",
        "repo:*",
        "repo:screener-kr/screener-monitorin?:ref:refs/heads/main",
        "repo:screener-kr:ref:refs/heads/main",
        "*",
    ],
)
def test_a_subject_that_matches_more_than_one_repository_is_refused(subject: str) -> None:
    trust = role({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}, "StringLike": {f"{ISSUER}:sub": subject}})
    (message,) = messages(iam_trust_policy_conditioned, trust)
    assert message == (
        "trust policy statement GitHub lets the GitHub Actions workflows of any repository matching "
        f"{subject!r} assume the role. Fix: name one repository: repo:OWNER/REPO:environment:NAME "
        "(bootstrap/ declares these roles)."
    )


def test_a_wildcard_after_the_repository_is_the_repositorys_own_business() -> None:
    """Any branch of one repository is still that repository: the pack refuses only other repositories."""
    trust = role(
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{ISSUER}:sub": "repo:screener-kr/screener-monitoring:*"},
        }
    )
    assert messages(iam_trust_policy_conditioned, trust) == []
