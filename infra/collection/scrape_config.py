"""The Prometheus scrape configuration, generated from the service catalog.

One renderer serves every collector: the AMP managed scraper (prod), the
in-cluster Prometheus agent (staging) and static targets outside any
cluster (dev). Each job attaches the `service`, `env` and `cluster` labels that
every rule and dashboard groups by, and keeps only the series that the
metric catalog (`infra.metrics`) lists for its source, so AMP never ingests
a series that nothing reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from infra.alerting.rule_model import regex_literal
from infra.config.core import ServiceSpec
from infra.config.model import StackInput
from infra.metrics import scraped_series_names
from infra.yaml_text import dump_yaml

# The in-cluster service account's credentials; the AMP managed scraper
# accepts exactly this token path and no other authorization.
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
# The only host name the managed scraper resolves; kubelet metrics go through its node proxy.
API_SERVER = "kubernetes.default.svc:443"
# Label value for targets that run outside any cluster (dev, and any local Prometheus).
NO_CLUSTER = "local"
SCRAPE_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ClusterExporter:
    """An exporter the collection installs in the cluster, found by its Service."""

    job: str
    source: str
    k8s_service: str
    port: int
    honor_labels: bool = False


# Installed by the collection component in its own namespace (see infra/components/collection.py).
CLUSTER_EXPORTERS: tuple[ClusterExporter, ...] = (
    ClusterExporter("kube-state-metrics", "kube-state-metrics", "kube-state-metrics", 8080, honor_labels=True),
    ClusterExporter("node-exporter", "node_exporter", "node-exporter", 9100),
)
# Kubelet endpoints reached through the API server's node proxy.
KUBELET_JOBS: tuple[tuple[str, str, str], ...] = (
    ("kubelet", "kubelet", "metrics"),
    ("cadvisor", "cadvisor", "metrics/cadvisor"),
)
COLLECTOR_JOB = "collector"
COLLECTOR_LISTEN = "localhost:9090"


@dataclass(frozen=True)
class ScrapeJob:
    """One scrape job and the catalog source whose series it keeps."""

    name: str
    source: str
    body: dict[str, Any] = field(default_factory=dict)


# A pure function of the constant catalog: every job of a source shares one text instead of re-sorting it.
@functools.cache
def keep_list_regex(source: str) -> str:
    """The metric_relabel regex keeping exactly the catalog's series of `source` (Prometheus anchors it)."""
    return "|".join(sorted(scraped_series_names(source)))


def _labels(service: str, env: str, cluster: str) -> list[dict[str, Any]]:
    return [
        {"target_label": "service", "replacement": service},
        {"target_label": "env", "replacement": env},
        {"target_label": "cluster", "replacement": cluster},
    ]


@dataclass(frozen=True)
class NarrowedSeries:
    """A kept series of which only the samples whose `label` equals `value` are stored."""

    name: str
    label: str
    value: str


# kube_pod_owner has a series per pod; the rules need only Job owners' (KubePodNotReady leaves their pods
# out, as kubernetes-mixin does with owner_kind!="Job"), so the rest never reaches AMP.
NARROWED_SERIES: dict[str, tuple[NarrowedSeries, ...]] = {
    "kube-state-metrics": (NarrowedSeries("kube_pod_owner", "owner_kind", "Job"),),
}


def anything_but(value: str) -> str:
    """An RE2 regex that, anchored as Prometheus anchors relabel regexes, matches every string except `value`.

    RE2 has no negative lookahead, so it is spelt out: a proper prefix of
    `value` (the empty string included), a prefix followed by another
    character, or `value` followed by more.
    """
    alternatives: list[str] = []
    for index, char in enumerate(value):
        prefix = regex_literal(value[:index])
        other = char if char.isalnum() else "\\" + char
        alternatives += [prefix, f"{prefix}[^{other}].*"]
    alternatives.append(f"{regex_literal(value)}.+")
    return "|".join(alternatives)


def _keep_series(source: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [{"source_labels": ["__name__"], "regex": keep_list_regex(source), "action": "keep"}]
    for narrowed in NARROWED_SERIES.get(source, ()):
        rules.append(
            {
                "source_labels": ["__name__", narrowed.label],
                "regex": f"{regex_literal(narrowed.name)};(?:{anything_but(narrowed.value)})",
                "action": "drop",
            }
        )
    return rules


def _endpoints_job(namespace: str, k8s_service: str, port: int, *, pod_labels: bool = True) -> dict[str, Any]:
    """Kubernetes endpoints discovery of one Service's pods on one port."""
    relabel: list[dict[str, Any]] = [
        {
            "source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"],
            "regex": f"{namespace};{k8s_service}",
            "action": "keep",
        },
        # A Service may expose several ports; only the metrics port is a target.
        {"source_labels": ["__address__"], "regex": f".+:{port}", "action": "keep"},
    ]
    if pod_labels:
        relabel += [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ]
    return {
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [namespace]}}],
        "relabel_configs": relabel,
    }


def _catalog_job(service: ServiceSpec, discovery: str) -> dict[str, Any]:
    scrape = service.scrape
    assert scrape is not None  # callers pass scraped services only
    if discovery == "static":
        # A StackInput with static discovery has targets for every scraped service (checked by the model).
        return {"static_configs": [{"targets": list(scrape.static_targets)}], "relabel_configs": []}
    return _endpoints_job(scrape.k8s_namespace, scrape.k8s_service or service.name, scrape.port)


def _kubelet_job(path: str, mode: str) -> dict[str, Any]:
    job: dict[str, Any] = {
        "scheme": "https",
        "authorization": {"type": "Bearer", "credentials_file": SERVICE_ACCOUNT_TOKEN},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"target_label": "__address__", "replacement": API_SERVER},
            {
                "source_labels": ["__meta_kubernetes_node_name"],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
                "replacement": f"/api/v1/nodes/$1/proxy/{path}",
            },
            {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "node"},
        ],
    }
    if mode == "in-cluster":
        # The agent verifies the API server with the pod's CA; the managed
        # scraper accepts no file but the token and trusts the API server itself.
        job["tls_config"] = {"ca_file": SERVICE_ACCOUNT_CA}
    return job


def scrape_jobs(settings: StackInput, cluster_name: str | None) -> list[ScrapeJob]:
    """Every scrape job of a stack, in a stable order: catalog services, then cluster sources."""
    collection = settings.collection
    cluster = cluster_name or NO_CLUSTER
    jobs: list[ScrapeJob] = []

    def add(name: str, source: str, service: str, body: dict[str, Any]) -> None:
        body["relabel_configs"] = [*body.get("relabel_configs", []), *_labels(service, settings.environment, cluster)]
        body["metric_relabel_configs"] = _keep_series(source)
        jobs.append(ScrapeJob(name=name, source=source, body={"job_name": name, **body}))

    for service in settings.services:
        if service.scrape is None or service.exporter is None:
            continue
        body = _catalog_job(service, collection.discovery)
        body["metrics_path"] = service.scrape.path
        add(service.name, service.exporter, service.name, body)

    if collection.discovery == "kubernetes":
        for exporter in CLUSTER_EXPORTERS:
            # kube-state-metrics' series carry the namespace/pod they describe; those must win.
            body = _endpoints_job(
                collection.namespace, exporter.k8s_service, exporter.port, pod_labels=not exporter.honor_labels
            )
            if exporter.honor_labels:
                body["honor_labels"] = True
            add(exporter.job, exporter.source, exporter.job, body)
        for job_name, source, path in KUBELET_JOBS:
            add(job_name, source, job_name, _kubelet_job(path, collection.mode))

    if collection.mode == "in-cluster":
        # The agent's own remote-write health; the managed scraper has no such endpoint.
        add(COLLECTOR_JOB, "collector", COLLECTOR_JOB, {"static_configs": [{"targets": [COLLECTOR_LISTEN]}]})
    return jobs


def scrape_config_document(settings: StackInput, cluster_name: str | None) -> dict[str, Any]:
    interval = settings.collection.scrape_interval_seconds
    return {
        "global": {
            "scrape_interval": f"{interval}s",
            "scrape_timeout": f"{min(interval, SCRAPE_TIMEOUT_SECONDS)}s",
        },
        "scrape_configs": [job.body for job in scrape_jobs(settings, cluster_name)],
    }


def to_yaml(document: dict[str, Any]) -> str:
    return dump_yaml(document, width=120)


def render_scrape_config(settings: StackInput, cluster_name: str | None) -> str:
    """The Prometheus configuration (YAML) that scrapes this stack's catalog."""
    return to_yaml(scrape_config_document(settings, cluster_name))


def render_agent_config(settings: StackInput, cluster_name: str | None, remote_write_url: str, region: str) -> str:
    """The in-cluster agent's full configuration: the scrape config plus SigV4 remote write to AMP."""
    return agent_config_text(render_scrape_config(settings, cluster_name), remote_write_url, region)


def agent_config_text(scrape_config: str, remote_write_url: str, region: str) -> str:
    """The agent's configuration from the scrape config already rendered (`render_scrape_config`).

    `remote_write` is one more top-level key of a block-style mapping, so its
    text simply follows the scrape config's: the same text as rendering the
    whole document again, without writing the 500 scrape jobs' YAML twice.
    """
    remote_write = {
        "remote_write": [
            {
                "url": remote_write_url,
                # Credentials come from the pod's IRSA web identity (AWS default chain).
                "sigv4": {"region": region},
                # AMP's guidance for agents: bigger batches, bounded shards.
                "queue_config": {"max_samples_per_send": 1000, "max_shards": 200, "capacity": 2500},
            }
        ]
    }
    return scrape_config + to_yaml(remote_write)
