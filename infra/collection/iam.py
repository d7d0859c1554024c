"""IAM documents of the in-cluster collector: IRSA trust and remote-write-only permission."""

from __future__ import annotations

from infra.iam_policy import allow, policy_json

STS_AUDIENCE = "sts.amazonaws.com"


def service_account_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def irsa_trust_policy(oidc_provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> str:
    """Only the collector's service account, with the STS audience, may assume the role."""
    issuer = issuer_url.removeprefix("https://")
    return policy_json(
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:sub": service_account_subject(namespace, service_account),
                    f"{issuer}:aud": STS_AUDIENCE,
                }
            },
        }
    )


def remote_write_policy(workspace_arn: str) -> str:
    """The collector writes samples to this one workspace and can do nothing else."""
    return policy_json(allow(["aps:RemoteWrite"], workspace_arn))
