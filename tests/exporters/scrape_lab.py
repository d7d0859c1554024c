"""The collector's own scrape config, pointed at the lab's exporters.

The jobs come from `render_scrape_config` of the committed stacks: dev for
the catalog services (postgres, redis, nginx: static targets) and staging for
what only a cluster has (node-exporter: Kubernetes endpoints discovery; the
agent's own `collector` job). Only where each job finds its targets changes:
a dev job gets the lab's address as its static target; a Kubernetes job gets
a static target carrying the `__meta_kubernetes_*` labels that endpoints
discovery would attach, so its `relabel_configs` (the namespace/Service keep,
the port keep, the pod labels) run unchanged. `relabel_configs` and
`metric_relabel_configs` are kept byte-for-byte (checked below). The global
interval shrinks to 1 s so that two scrapes take seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from infra.collection.scrape_config import CLUSTER_EXPORTERS, render_scrape_config, scrape_jobs, to_yaml
from infra.config import StackInput
from infra.config.stackfile import stack_settings
from infra.yaml_text import dump_yaml

LAB_SCRAPE_SECONDS = 1
# Dev has no cluster: node_exporter and the agent's self-scrape come from staging's config.
STACKS_IN_ORDER = ("dev", "staging")
LAB_POD = "lab-0"
# What the config keeps of a job, whatever the lab does to its discovery.
RELABELLING = ("relabel_configs", "metric_relabel_configs")


@dataclass(frozen=True)
class LabJob:
    stack: str
    job: str
    source: str
    env: str
    body: dict[str, Any]


def _rendered_jobs(stack: str, settings: StackInput) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The stack's jobs as the collector gets them (parsed from the rendered YAML), and each job's source."""
    cluster = settings.collection.cluster_name
    document = yaml.safe_load(render_scrape_config(settings, cluster))
    by_name = {job["job_name"]: job for job in document["scrape_configs"]}
    return by_name, {job.name: job.source for job in scrape_jobs(settings, cluster)}


def _retargeted(body: dict[str, Any], address: str, settings: StackInput) -> dict[str, Any]:
    job = dict(body)
    if "static_configs" in job:
        job["static_configs"] = [{"targets": [address]}]
    elif "kubernetes_sd_configs" in job:
        exporter = next(exporter for exporter in CLUSTER_EXPORTERS if exporter.job == job["job_name"])
        del job["kubernetes_sd_configs"]
        # The labels endpoints discovery gives a pod of the exporter's Service.
        discovered = {
            "__meta_kubernetes_namespace": settings.collection.namespace,
            "__meta_kubernetes_service_name": exporter.k8s_service,
            "__meta_kubernetes_pod_name": LAB_POD,
        }
        job["static_configs"] = [{"targets": [address], "labels": discovered}]
    else:
        raise ValueError(f"job {job['job_name']}: no static or Kubernetes discovery to point at the lab")
    for key in RELABELLING:
        if dump_yaml(job.get(key)) != dump_yaml(body.get(key)):
            raise AssertionError(f"job {job['job_name']}: the lab changed its {key}")
    return job


def lab_jobs(addresses: dict[str, str]) -> list[LabJob]:
    """One job per lab source (address by catalog source), from the first stack that scrapes it."""
    jobs: list[LabJob] = []
    remaining = dict(addresses)
    for stack in STACKS_IN_ORDER:
        settings = stack_settings(stack)
        bodies, sources = _rendered_jobs(stack, settings)
        for name, source in sources.items():
            if source in remaining:
                body = _retargeted(bodies[name], remaining.pop(source), settings)
                jobs.append(LabJob(stack, name, source, settings.environment, body))
    if remaining:
        raise ValueError(f"no committed stack scrapes {sorted(remaining)}")
    return jobs


def lab_prometheus_config(jobs: list[LabJob], remote_write_url: str) -> str:
    """A Prometheus config with the lab jobs, a rule file and a remote write.

    The remote write and the rule file exist so that Prometheus exports the
    remote-storage and rule-evaluation series the `collector` job keeps
    (`..._queue_highest_sent_timestamp_seconds` only after a send succeeded);
    batches leave every second instead of every 5 s.
    """
    return to_yaml(
        {
            "global": {"scrape_interval": f"{LAB_SCRAPE_SECONDS}s", "scrape_timeout": f"{LAB_SCRAPE_SECONDS}s"},
            "rule_files": ["rules.yml"],
            "scrape_configs": [job.body for job in jobs],
            "remote_write": [{"url": remote_write_url, "queue_config": {"batch_send_deadline": "1s"}}],
        }
    )


# A receiver for the lab's remote write: another real Prometheus, scraping nothing.
RECEIVER_CONFIG = to_yaml({"scrape_configs": []})
RECEIVER_FLAGS = ("--web.enable-remote-write-receiver",)
LAB_RULES = to_yaml({"groups": [{"name": "lab", "rules": [{"record": "lab:up:count", "expr": "count(up)"}]}]})
