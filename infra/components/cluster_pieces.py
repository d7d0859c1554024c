"""What components declare on an EKS cluster the same way: an IRSA role and a Helm release of a pinned chart.

The collection agent, the exporters and the log collector all do; one helper each
keeps the trust policy (this cluster's OIDC provider, one namespace and service
account) and the pin (chart, exact version, repository) from drifting between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.collection.charts import ChartPin
from infra.collection.iam import irsa_trust_policy


def irsa_role(
    logical_names: tuple[str, str],
    role_name: pulumi.Input[str],
    description: str,
    issuer_url: pulumi.Input[str],
    service_account: tuple[pulumi.Input[str], str],
    policy: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role only `service_account` (namespace, name) on the cluster of `issuer_url` may assume, and its policy.

    `logical_names`: the role's and the inline policy's logical names.
    """
    child = pulumi.ResourceOptions(parent=parent)
    oidc_provider = aws.iam.get_open_id_connect_provider_output(
        url=issuer_url, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    namespace, account = service_account
    role = aws.iam.Role(
        logical_names[0],
        name=role_name,
        description=description,
        assume_role_policy=pulumi.Output.all(oidc_provider.arn, issuer_url, namespace).apply(
            lambda parts: irsa_trust_policy(parts[0], parts[1], parts[2], account)
        ),
        tags=dict(tags),
        opts=child,
    )
    return role, aws.iam.RolePolicy(logical_names[1], role=role.id, policy=policy, opts=child)


def pinned_release(
    logical_name: str,
    release: str,
    pin: ChartPin,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm release of `pin`'s chart at its exact version from its own repository."""
    return k8s.helm.v3.Release(
        logical_name,
        name=release,
        chart=pin.chart,
        version=pin.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repo),
        namespace=namespace,
        values=values,
        opts=opts,
    )
