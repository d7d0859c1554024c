"""The in-cluster collector: Prometheus in agent mode writing to AMP through IRSA."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.collection import charts
from infra.collection.iam import remote_write_policy
from infra.components.cluster_pieces import irsa_role, pinned_release


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

        self.role, self.policy = irsa_role(
            (f"{name}-role", f"{name}-remote-write"),
            args.role_name,
            "Prometheus agent: remote write to the AMP workspace (IRSA)",
            args.oidc_issuer_url,
            (args.namespace, charts.AGENT_SERVICE_ACCOUNT),
            pulumi.Output.from_input(args.workspace_arn).apply(remote_write_policy),
            args.tags,
            self,
        )

        self.config_yaml = pulumi.Output.from_input(args.remote_write_url).apply(args.render_config)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=charts.AGENT_CONFIG_MAP, namespace=args.namespace),
            data={"prometheus.yml": self.config_yaml},
            opts=child,
        )
        self.release = pinned_release(
            f"{name}-release",
            charts.AGENT_RELEASE,
            charts.PROMETHEUS,
            args.namespace,
            charts.agent_values(self.role.arn),
            # The pod must find its config and be able to assume its role on first start.
            pulumi.ResourceOptions(parent=self, depends_on=[self.config_map, self.policy]),
        )

        self.role_arn = self.role.arn
        self.release_name = self.release.name.apply(lambda released: released or charts.AGENT_RELEASE)
        self.register_outputs(
            {"role_arn": self.role_arn, "release_name": self.release_name, "config_yaml": self.config_yaml}
        )
