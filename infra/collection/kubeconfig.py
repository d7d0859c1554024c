"""A kubeconfig for an EKS cluster that fetches its token with `aws eks get-token`."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s


def eks_kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """Like `aws eks update-kubeconfig`: no credential is stored, the AWS CLI issues a token per call."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def cluster_kubeconfig(
    cluster_name: str, region: str, cluster: aws.eks.AwaitableGetClusterResult | pulumi.Output[Any], given: Any
) -> pulumi.Input[str]:
    """The stack's kubeconfig secret when set, else one built from the looked-up cluster (token per call)."""
    if given is not None:
        return given  # type: ignore[no-any-return]
    return pulumi.Output.all(cluster.endpoint, cluster.certificate_authorities[0].data).apply(
        lambda parts: eks_kubeconfig(cluster_name, parts[0], parts[1], region)
    )


def eks_provider(
    name: str, cluster_name: str, region: str, kubeconfig: pulumi.Input[str] | None, parent: pulumi.Resource
) -> k8s.Provider:
    """An explicit Kubernetes provider for the stack's EKS cluster, as the collection component makes its own.

    Explicit, never the ambient one: the default provider would follow whatever
    context the deploying machine's ~/.kube/config points at.
    """
    cluster = aws.eks.get_cluster_output(name=cluster_name, opts=pulumi.InvokeOutputOptions(parent=parent))
    return k8s.Provider(
        name,
        kubeconfig=cluster_kubeconfig(cluster_name, region, cluster, kubeconfig),
        opts=pulumi.ResourceOptions(parent=parent),
    )
