"""What the Celery exporter deployment looks like, decided from the stack's settings.

danihodovic/celery-exporter is deployed as a plain Deployment and Service
rather than from its Helm chart: the chart is published only through the
project's GitHub releases (not a registry we pin elsewhere), hard-codes the
container port, and has no securityContext or probe defaults we could rely
on. Pure functions: the component turns this into Kubernetes objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import StackInput

# Exact tag (ghcr.io publishes amd64 and arm64; the Docker Hub tag is amd64 only).
# An upgrade is a reviewed change, never a side effect of `pulumi up`.
IMAGE = "ghcr.io/danihodovic/celery-exporter:0.12.2"
# The image's `exporter` user (adduser's first UID on Debian). A numeric UID lets
# the kubelet verify runAsNonRoot, which it cannot do for a named USER.
RUN_AS_USER = 1000
PORT_NAME = "metrics"
HEALTH_PATH = "/health"  # answers 200 only while the broker connection works
APP_LABEL = "celery-exporter"


@dataclass(frozen=True)
class CeleryExporterSettings:
    """One exporter: where it runs, the port the scrape job discovers, and where the broker URL lives."""

    k8s_service: str
    namespace: str
    port: int
    broker_secret_name: str
    broker_secret_key: str
    queues: tuple[str, ...]
    image: str = IMAGE

    def args(self) -> list[str]:
        """Command-line flags (the broker URL is not one: it comes from the Secret as CE_BROKER_URL)."""
        flags = [f"--port={self.port}"]
        if self.queues:
            flags.append(f"--queues={','.join(self.queues)}")
        return flags


def celery_exporter_settings(settings: StackInput) -> CeleryExporterSettings | None:
    """The exporter for the catalog's celery service, or None when the stack installs no exporters.

    The configuration model allows at most one scraped celery service when the exporter is on.
    """
    exporters = settings.collection.exporters
    if exporters is None or not exporters.celery.enabled or settings.collection.discovery != "kubernetes":
        return None
    scraped = [s for s in settings.services if s.kind == "celery" and s.scrape is not None]
    if not scraped:
        return None
    (service,) = scraped
    scrape = service.scrape
    assert scrape is not None  # filtered above
    spec = exporters.celery
    return CeleryExporterSettings(
        k8s_service=scrape.k8s_service or service.name,
        namespace=scrape.k8s_namespace,
        port=scrape.port,
        broker_secret_name=spec.broker_secret_name,
        broker_secret_key=spec.broker_secret_key,
        queues=spec.queues,
    )
