"""Pinned Helm charts and the values the collection installs them with.

Pure functions: the component passes Outputs in through `pulumi.Output.apply`
or as nested inputs; nothing here talks to a cluster. Secrets never appear
in values: exporters read them from Kubernetes Secrets by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from infra.collection.statsd_mapping import render_statsd_mapping
from infra.config.model import StackInput

PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"


@dataclass(frozen=True)
class ChartPin:
    chart: str
    version: str
    repo: str = PROMETHEUS_COMMUNITY


# Exact versions: an upgrade is a reviewed change, never a side effect of `pulumi up`.
# Each is a published release (tests/test_published_pins.py records where it was verified), and every
# values key below is one its templates read at that version (tests/collection/test_chart_values.py).
# The `# renovate:` line above each pin is what Renovate's regex manager reads to propose a bump.
# renovate: datasource=helm depName=prometheus registryUrl=https://prometheus-community.github.io/helm-charts
PROMETHEUS = ChartPin("prometheus", "29.27.0")  # Prometheus v3.14 (agent mode: --agent)
# renovate: datasource=helm depName=kube-state-metrics registryUrl=https://prometheus-community.github.io/helm-charts
KUBE_STATE_METRICS = ChartPin("kube-state-metrics", "8.4.0")  # kube-state-metrics v2.20.0
# renovate: datasource=helm depName=prometheus-node-exporter registryUrl=https://prometheus-community.github.io/helm-charts
NODE_EXPORTER = ChartPin("prometheus-node-exporter", "4.56.1")  # node_exporter 1.12.1
# renovate: datasource=helm depName=prometheus-postgres-exporter registryUrl=https://prometheus-community.github.io/helm-charts
POSTGRES_EXPORTER = ChartPin("prometheus-postgres-exporter", "8.2.0")  # postgres_exporter v0.20.1
# renovate: datasource=helm depName=prometheus-redis-exporter registryUrl=https://prometheus-community.github.io/helm-charts
REDIS_EXPORTER = ChartPin("prometheus-redis-exporter", "6.29.0")  # redis_exporter v1.89.0
# renovate: datasource=helm depName=prometheus-nginx-exporter registryUrl=https://prometheus-community.github.io/helm-charts
NGINX_EXPORTER = ChartPin("prometheus-nginx-exporter", "1.23.1")  # nginx-prometheus-exporter 1.5.3
# renovate: datasource=helm depName=prometheus-statsd-exporter registryUrl=https://prometheus-community.github.io/helm-charts
STATSD_EXPORTER = ChartPin("prometheus-statsd-exporter", "1.0.0")  # statsd_exporter v0.28.0

# The agent's release name is fixed: the chart mounts `<release>-<configMapOverrideName>`.
AGENT_RELEASE = "collector"
AGENT_CONFIG_OVERRIDE = "agent-config"
AGENT_CONFIG_MAP = f"{AGENT_RELEASE}-{AGENT_CONFIG_OVERRIDE}"
AGENT_SERVICE_ACCOUNT = "prometheus-agent"
AGENT_DATA_PATH = "/data"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
POSTGRES_DSN_KEY = "DATA_SOURCE_NAME"
REDIS_PASSWORD_KEY = "password"


def agent_values(role_arn: Any) -> dict[str, Any]:
    """prometheus chart in agent mode: scrape and remote-write only, config from our ConfigMap."""
    return {
        "server": {
            # Agent mode refuses the server's TSDB flags, so the defaults are replaced whole.
            "defaultFlagsOverride": [
                "--agent",
                "--config.file=/etc/config/prometheus.yml",
                f"--storage.agent.path={AGENT_DATA_PATH}",
                "--web.enable-lifecycle",
            ],
            "configMapOverrideName": AGENT_CONFIG_OVERRIDE,
            # The WAL only buffers samples until AMP acknowledges them.
            "persistentVolume": {"enabled": False},
            "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
        },
        "serviceAccounts": {
            "server": {
                "create": True,
                "name": AGENT_SERVICE_ACCOUNT,
                "annotations": {IRSA_ROLE_ANNOTATION: role_arn},
            }
        },
        # Exporters come from their own pinned charts (see exporter values below).
        "alertmanager": {"enabled": False},
        "kube-state-metrics": {"enabled": False},
        "prometheus-node-exporter": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
    }


def kube_state_metrics_values() -> dict[str, Any]:
    return {"fullnameOverride": "kube-state-metrics", "service": {"port": 8080}}


def node_exporter_values() -> dict[str, Any]:
    return {"fullnameOverride": "node-exporter", "service": {"port": 9100, "targetPort": 9100}}


def postgres_exporter_values(k8s_service: str, port: int, dsn_secret: str) -> dict[str, Any]:
    return {
        "fullnameOverride": k8s_service,
        "service": {"port": port, "targetPort": 9187},
        "config": {"datasourceSecret": {"name": dsn_secret, "key": POSTGRES_DSN_KEY}},
    }


def redis_exporter_values(k8s_service: str, port: int, address: str, password_secret: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fullnameOverride": k8s_service,
        "service": {"port": port},
        "redisAddress": address,
    }
    if password_secret:
        values["auth"] = {"enabled": True, "secret": {"name": password_secret, "key": REDIS_PASSWORD_KEY}}
    return values


def nginx_exporter_values(k8s_service: str, port: int, status_url: str) -> dict[str, Any]:
    return {"fullnameOverride": k8s_service, "service": {"port": port}, "nginxServer": status_url}


def statsd_exporter_values(k8s_service: str, port: int, mapping: str) -> dict[str, Any]:
    return {
        "fullnameOverride": k8s_service,
        "service": {"port": port},
        "statsd": {"mappingConfig": mapping},
    }


@dataclass(frozen=True)
class CredentialSecret:
    """A Kubernetes Secret an exporter reads; created from a config secret when that is set."""

    config_secret: Literal["postgres_dsn", "redis_password"]  # the ExporterSecrets field that fills it
    name: str
    key: str


@dataclass(frozen=True)
class ExporterRelease:
    """One exporter chart to install, with its values and the Secret it reads."""

    release: str
    pin: ChartPin
    namespace: str
    values: dict[str, Any]
    credentials: CredentialSecret | None = None


def exporter_releases(settings: StackInput, *, redis_password_set: bool) -> list[ExporterRelease]:
    """The exporters of a stack, each under the Service name and namespace its scrape job discovers."""
    spec = settings.collection.exporters
    if spec is None or settings.collection.discovery != "kubernetes":
        return []
    namespace = settings.collection.namespace
    releases: list[ExporterRelease] = []
    if spec.kube_state_metrics:
        releases.append(
            ExporterRelease("kube-state-metrics", KUBE_STATE_METRICS, namespace, kube_state_metrics_values())
        )
    if spec.node_exporter:
        releases.append(ExporterRelease("node-exporter", NODE_EXPORTER, namespace, node_exporter_values()))
    for service in settings.services:
        scrape = service.scrape
        if scrape is None:
            continue
        k8s_service = scrape.k8s_service or service.name
        if service.kind == "postgres" and spec.postgres:
            releases.append(
                ExporterRelease(
                    k8s_service,
                    POSTGRES_EXPORTER,
                    scrape.k8s_namespace,
                    postgres_exporter_values(k8s_service, scrape.port, spec.postgres_dsn_secret),
                    CredentialSecret("postgres_dsn", spec.postgres_dsn_secret, POSTGRES_DSN_KEY),
                )
            )
        elif service.kind == "redis" and spec.redis_address:
            password_secret = f"{k8s_service}-password" if redis_password_set else None
            releases.append(
                ExporterRelease(
                    k8s_service,
                    REDIS_EXPORTER,
                    scrape.k8s_namespace,
                    redis_exporter_values(k8s_service, scrape.port, spec.redis_address, password_secret),
                    CredentialSecret("redis_password", password_secret, REDIS_PASSWORD_KEY)
                    if password_secret
                    else None,
                )
            )
        elif service.kind == "nginx" and spec.nginx_status_url:
            releases.append(
                ExporterRelease(
                    k8s_service,
                    NGINX_EXPORTER,
                    scrape.k8s_namespace,
                    nginx_exporter_values(k8s_service, scrape.port, spec.nginx_status_url),
                )
            )
        elif service.kind == "airflow" and spec.airflow_statsd:
            releases.append(
                ExporterRelease(
                    k8s_service,
                    STATSD_EXPORTER,
                    scrape.k8s_namespace,
                    statsd_exporter_values(k8s_service, scrape.port, render_statsd_mapping()),
                )
            )
    return releases
