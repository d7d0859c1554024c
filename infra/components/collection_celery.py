"""The Celery exporter: a Deployment reading the broker URL from a Secret, behind the Service the scrape job finds."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.collection import celery_exporter as celery
from infra.collection.celery_exporter import CeleryExporterSettings


@dataclass
class CeleryExporterArgs:
    settings: CeleryExporterSettings
    # The celeryBrokerUrl config secret; when None the Deployment reads the Secret that already exists.
    broker_url: pulumi.Output[str] | None
    part_of: str


class CeleryExporter(pulumi.ComponentResource):
    """danihodovic/celery-exporter at a pinned image, non-root, one replica."""

    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: CeleryExporterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:CeleryExporter", name, None, opts)
        s = args.settings
        labels = {"app.kubernetes.io/name": celery.APP_LABEL, "app.kubernetes.io/instance": s.k8s_service}
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=s.k8s_service, namespace=s.namespace, labels={**labels, "app.kubernetes.io/part-of": args.part_of}
        )
        # Names are fixed (the scrape job selects the Service by name), so a
        # replacement must delete the old object before creating the new one. What the component was told
        # to wait for (the Namespace, when the collection creates it) is passed on to every object: a
        # component's dependencies are not its children's.
        fixed_name = pulumi.ResourceOptions(
            parent=self, delete_before_replace=True, depends_on=opts.depends_on if opts is not None else None
        )

        depends_on: list[pulumi.Resource] = []
        if args.broker_url is not None:
            # string_data holds a secret Output: the provider stores and shows it encrypted.
            self.secret = k8s.core.v1.Secret(
                f"{name}-broker",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=s.broker_secret_name, namespace=s.namespace, labels=metadata.labels
                ),
                type="Opaque",
                string_data={s.broker_secret_key: args.broker_url},
                opts=fixed_name,
            )
            depends_on.append(self.secret)
        else:
            pulumi.log.info(
                f"celery-exporter: the config secret monitoring:celeryBrokerUrl is not set; the exporter reads "
                f"the existing Kubernetes Secret {s.namespace}/{s.broker_secret_name} (key {s.broker_secret_key})",
                resource=self,
            )

        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=metadata,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # Each replica consumes the whole event stream, so two would double every
                # counter in sum(); Recreate keeps it at one even during a rollout.
                replicas=1,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=_pod_spec(s),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(fixed_name, pulumi.ResourceOptions(depends_on=depends_on)),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=metadata,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                # Endpoints discovery sees the target port: it must be the scrape port too.
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name=celery.PORT_NAME, port=s.port, target_port=celery.PORT_NAME, protocol="TCP"
                    )
                ],
            ),
            opts=fixed_name,
        )

        self.deployment_name = self.deployment.metadata.apply(lambda m: m.name or s.k8s_service)
        self.service_name = self.service.metadata.apply(lambda m: m.name or s.k8s_service)
        self.register_outputs({"deployment_name": self.deployment_name, "service_name": self.service_name})


def _pod_spec(s: CeleryExporterSettings) -> k8s.core.v1.PodSpecArgs:
    def probe(path: str, period_seconds: int, failure_threshold: int) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=celery.PORT_NAME),
            period_seconds=period_seconds,
            timeout_seconds=5,
            failure_threshold=failure_threshold,
        )

    return k8s.core.v1.PodSpecArgs(
        # The exporter talks to the broker only, never to the Kubernetes API.
        automount_service_account_token=False,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=celery.RUN_AS_USER,
            run_as_group=celery.RUN_AS_USER,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[
            k8s.core.v1.ContainerArgs(
                name="celery-exporter",
                image=s.image,
                image_pull_policy="IfNotPresent",
                args=s.args(),
                env=[
                    k8s.core.v1.EnvVarArgs(
                        # The exporter reads every flag from a CE_-prefixed variable.
                        name="CE_BROKER_URL",
                        value_from=k8s.core.v1.EnvVarSourceArgs(
                            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                                name=s.broker_secret_name, key=s.broker_secret_key
                            )
                        ),
                    ),
                    # Reconnect in place after a broker blip instead of exiting into CrashLoopBackOff;
                    # the liveness probe still restarts it (re-reading the Secret) if the broker stays unreachable.
                    k8s.core.v1.EnvVarArgs(name="CE_RETRY_INTERVAL", value="5"),
                ],
                ports=[k8s.core.v1.ContainerPortArgs(name=celery.PORT_NAME, container_port=s.port, protocol="TCP")],
                readiness_probe=probe(celery.HEALTH_PATH, period_seconds=15, failure_threshold=2),
                # /health too, but patient: a broker unreachable for ~3 minutes (outage, rotated
                # password) restarts the pod, which then reads the Secret again.
                liveness_probe=probe(celery.HEALTH_PATH, period_seconds=30, failure_threshold=6),
                # No CPU limit: throttling an event consumer only makes it fall behind.
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests={"cpu": "50m", "memory": "128Mi"}, limits={"memory": "256Mi"}
                ),
                security_context=k8s.core.v1.SecurityContextArgs(
                    allow_privilege_escalation=False,
                    read_only_root_filesystem=True,
                    capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                ),
                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
            )
        ],
        # A read-only root still leaves Python and Celery a scratch directory.
        volumes=[k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi"))],
    )
