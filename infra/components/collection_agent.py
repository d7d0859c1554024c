"""The in-cluster collector: Prometheus in agent mode writing to AMP through IRSA."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.collection import charts
from infra.collection.iam import irsa_trust_policy, remote_write_policy


@dataclass
class PrometheusAgentArgs:
    namespace: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    workspace_arn: pulumi.Input[str]
    remote_write_url: pulumi.Input[str]
    # Renders the agent's prometheus.yml for a remote-write URL (known only after the workspace exists).
    render_config: Callable[[str], str]
    role_name: pulumi.Input[str]
    tags: Mapping[str, str]


class PrometheusAgent(pulumi.ComponentResource):
    """A pinned prometheus chart in agent mode, its configuration and its IAM role."""

    role_arn: pulumi.Output[str]
    release_name: pulumi.Output[str]
    config_yaml: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: PrometheusAgentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("monitoring:index:PrometheusAgent", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        oidc_provider = aws.iam.get_open_id_connect_provider_output(
            url=args.oidc_issuer_url, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Prometheus agent: remote write to the AMP workspace (IRSA)",
            assume_role_policy=pulumi.Output.all(oidc_provider.arn, args.oidc_issuer_url, args.namespace).apply(
                lambda parts: irsa_trust_policy(parts[0], parts[1], parts[2], charts.AGENT_SERVICE_ACCOUNT)
            ),
            tags=dict(args.tags),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-remote-write",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.workspace_arn).apply(remote_write_policy),
            opts=child,
        )

        self.config_yaml = pulumi.Output.from_input(args.remote_write_url).apply(args.render_config)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=charts.AGENT_CONFIG_MAP, namespace=args.namespace),
            data={"prometheus.yml": self.config_yaml},
            opts=child,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=charts.AGENT_RELEASE,
            chart=charts.PROMETHEUS.chart,
            version=charts.PROMETHEUS.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=charts.PROMETHEUS.repo),
            namespace=args.namespace,
            values=charts.agent_values(self.role.arn),
            # The pod must find its config and be able to assume its role on first start.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.config_map, self.policy]),
        )

        self.role_arn = self.role.arn
        self.release_name = self.release.name.apply(lambda released: released or charts.AGENT_RELEASE)
        self.register_outputs(
            {"role_arn": self.role_arn, "release_name": self.release_name, "config_yaml": self.config_yaml}
        )
