"""Collection on EKS: the exporters and the collector that feed the AMP workspace.

`mode` picks the collector: the AMP managed scraper (agentless) or a
Prometheus agent installed in the cluster; `none` (or no cluster) declares
nothing but this component, which still carries the rendered scrape config
so that every stack shows exactly what would be scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic.alias_generators import to_camel

from infra.collection.celery_exporter import CeleryExporterSettings
from infra.collection.charts import ExporterRelease
from infra.collection.kubeconfig import cluster_kubeconfig
from infra.components.cluster_pieces import pinned_release
from infra.components.collection_agent import PrometheusAgent, PrometheusAgentArgs
from infra.components.collection_celery import CeleryExporter, CeleryExporterArgs
from infra.components.collection_scraper import AmpManagedScraper, AmpManagedScraperArgs

CollectionMode = Literal["none", "managed-scraper", "in-cluster"]


@dataclass
class MetricsCollectionArgs:
    mode: CollectionMode
    stack_file: str
    name_prefix: str
    region: str
    cluster_name: str | None
    namespace: str
    scrape_config: str
    # Renders the in-cluster agent's config for the workspace's remote-write URL.
    render_agent_config: Callable[[str], str]
    workspace_arn: pulumi.Input[str]
    remote_write_url: pulumi.Input[str]
    tags: Mapping[str, str]
    exporters: Sequence[ExporterRelease] = ()
    celery_exporter: CeleryExporterSettings | None = None
    subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    kubeconfig: pulumi.Input[str] | None = None
    # Config secrets that exporters' Kubernetes Secrets are created from, by StackSecrets attribute name
    # (postgres_dsn, redis_password, celery_broker_url).
    credentials: ExporterSecrets = field(default_factory=lambda: ExporterSecrets())


@dataclass(frozen=True)
class ExporterSecrets:
    """The secrets exporters connect with (None where the stack file sets none)."""

    postgres_dsn: pulumi.Output[str] | None = None
    redis_password: pulumi.Output[str] | None = None
    celery_broker_url: pulumi.Output[str] | None = None


def skip_reason(args: MetricsCollectionArgs) -> str | None:
    if args.mode == "none":
        return (
            f"mode 'none' in {args.stack_file}: no collector and no exporters are deployed; "
            "the scrape config is rendered but not deployed"
        )
    if not args.cluster_name:
        return (
            f"no cluster: monitoring:collection.clusterName is not set in {args.stack_file}; "
            "set it to the EKS cluster's name to deploy the collector"
        )
    return None


class MetricsCollection(pulumi.ComponentResource):
    """Exporters, the Kubernetes provider and the collector of one stack."""

    release_names: pulumi.Output[list[str]]
    collector_role_arn: pulumi.Output[str] | None = None
    scraper_arn: pulumi.Output[str] | None = None
    scraper_role_arn: pulumi.Output[str] | None = None
    celery_exporter_deployment: pulumi.Output[str] | None = None
    # The cluster's Kubernetes provider; None when collection is skipped (the log collector uses it too).
    provider: k8s.Provider | None = None

    def __init__(self, name: str, args: MetricsCollectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reason = skip_reason(args)
        # The component's own inputs make the choice and the scraped jobs visible in every plan and state.
        super().__init__(
            "monitoring:index:MetricsCollection",
            name,
            {"mode": args.mode, "skipped": reason or "", "scrapeConfig": args.scrape_config},
            opts,
        )
        self.releases: list[k8s.helm.v3.Release] = []
        if reason is not None or args.cluster_name is None:
            pulumi.log.info(f"collection skipped: {reason}", resource=self)
            self.release_names = pulumi.Output.from_input([])
            self.register_outputs({"release_names": self.release_names})
            return

        cluster = aws.eks.get_cluster_output(name=args.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        kubeconfig = cluster_kubeconfig(args.cluster_name, args.region, cluster, args.kubeconfig)
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(parent=self))
        in_cluster = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.provider})

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels={"app.kubernetes.io/part-of": name}),
            opts=in_cluster,
        )
        # A stack file may put an exporter in this namespace: everything in the cluster waits for it
        # (the API server refuses an object whose namespace does not exist yet).
        after_namespace = pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[self.namespace]))
        for exporter in args.exporters:
            self.releases.append(self._exporter(name, exporter, args, after_namespace))
        if args.celery_exporter is not None:
            self.celery_exporter = CeleryExporter(
                f"{name}-celery-exporter",
                CeleryExporterArgs(
                    settings=args.celery_exporter,
                    broker_url=args.credentials.celery_broker_url,
                    part_of=name,
                ),
                opts=after_namespace,
            )
            self.celery_exporter_deployment = self.celery_exporter.deployment_name

        if args.mode == "in-cluster":
            agent = PrometheusAgent(
                f"{name}-agent",
                PrometheusAgentArgs(
                    namespace=self.namespace.metadata.name,
                    oidc_issuer_url=cluster.identities[0].oidcs[0].issuer,
                    workspace_arn=args.workspace_arn,
                    remote_write_url=args.remote_write_url,
                    render_config=args.render_agent_config,
                    role_name=f"{args.name_prefix}-collector",
                    tags=args.tags,
                ),
                opts=in_cluster,
            )
            self.releases.append(agent.release)
            self.collector_role_arn = agent.role_arn
        else:
            scraper = AmpManagedScraper(
                f"{name}-managed",
                AmpManagedScraperArgs(
                    alias=f"{args.name_prefix}-scraper",
                    cluster_name=args.cluster_name,
                    cluster_arn=cluster.arn,
                    authentication_mode=cluster.access_configs[0].authentication_mode,
                    subnet_ids=args.subnet_ids,
                    security_group_ids=args.security_group_ids,
                    workspace_arn=args.workspace_arn,
                    scrape_config=args.scrape_config,
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.scraper_arn = scraper.arn
            self.scraper_role_arn = scraper.role_arn

        self.release_names = pulumi.Output.all(*(release.name for release in self.releases))
        self.register_outputs(
            {
                "release_names": self.release_names,
                "collector_role_arn": self.collector_role_arn,
                "scraper_arn": self.scraper_arn,
                "scraper_role_arn": self.scraper_role_arn,
                "celery_exporter_deployment": self.celery_exporter_deployment,
            }
        )

    def _exporter(
        self, name: str, exporter: ExporterRelease, args: MetricsCollectionArgs, opts: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        depends_on: list[pulumi.Resource] = []
        credentials = exporter.credentials
        value = getattr(args.credentials, credentials.config_secret) if credentials else None
        if credentials is not None and value is not None:
            # string_data holds a secret Output: the provider stores and shows it encrypted.
            secret = k8s.core.v1.Secret(
                f"{name}-{exporter.release}-credentials",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=credentials.name, namespace=exporter.namespace),
                type="Opaque",
                string_data={credentials.key: value},
                opts=opts,
            )
            depends_on.append(secret)
        elif credentials is not None:
            pulumi.log.info(
                f"{exporter.release}: the config secret monitoring:{to_camel(credentials.config_secret)} is not set; "
                f"the exporter reads "
                f"the existing Kubernetes Secret {exporter.namespace}/{credentials.name} (key {credentials.key})",
                resource=self,
            )
        return pinned_release(
            f"{name}-{exporter.release}",
            exporter.release,
            exporter.pin,
            exporter.namespace,
            exporter.values,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends_on)),
        )
