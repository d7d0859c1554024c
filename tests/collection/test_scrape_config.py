"""The scrape config rendered from the service catalog: promtool, labels, discovery, keep-lists."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from infra.collection.scrape_config import NARROWED_SERIES
from infra.config.model import StackInput
from infra.config.stackfile import stack_settings
from infra.metrics import scraped_series_names
from planner.engine import Plan
from tests.collection.helpers import (
    SCRAPER,
    agent_config_text,
    collection_of,
    for_this_promtool,
    jobs,
    keep_regex,
    run_promtool,
    scrape_config,
)
from tests.conftest import plan_of

STACK_CLUSTER = {"dev": "local", "staging": "screener-staging", "prod": "screener-prod"}
CATALOG_JOBS = {"api", "postgres", "redis", "nginx", "celery", "airflow"}
CLUSTER_JOBS = {"kube-state-metrics", "node-exporter", "kubelet", "cadvisor"}

# Upstream Prometheus kubernetes_sd_config: roles, keys, and the meta labels each role sets.
K8S_SD_KEYS = {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata"}
K8S_META_BY_ROLE = {
    "node": {"__meta_kubernetes_node_name", "__meta_kubernetes_node_provider_id"},
    "endpoints": {
        "__meta_kubernetes_namespace",
        "__meta_kubernetes_endpoints_name",
        "__meta_kubernetes_endpoint_hostname",
        "__meta_kubernetes_endpoint_node_name",
        "__meta_kubernetes_endpoint_ready",
        "__meta_kubernetes_endpoint_port_name",
        "__meta_kubernetes_endpoint_port_protocol",
        "__meta_kubernetes_endpoint_address_target_kind",
        "__meta_kubernetes_endpoint_address_target_name",
        # Endpoints targets also carry their Service's and Pod's labels.
        "__meta_kubernetes_service_name",
        "__meta_kubernetes_pod_name",
        "__meta_kubernetes_pod_ip",
        "__meta_kubernetes_pod_node_name",
    },
}


def test_every_stack_scrape_config_passes_promtool(stack_plan: Plan) -> None:
    text = collection_of(stack_plan).inputs["scrapeConfig"]
    # Token and CA files exist only inside a pod: their presence is not checked here.
    result = run_promtool(for_this_promtool(text), syntax_only=stack_plan.stack != "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_dev_static_config_passes_promtool_unmodified() -> None:
    result = run_promtool(collection_of(plan_of("dev")).inputs["scrapeConfig"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_staging_agent_config_with_remote_write_passes_promtool_in_agent_mode() -> None:
    result = run_promtool(for_this_promtool(agent_config_text(plan_of("staging"))), agent=True, syntax_only=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_keep_list() -> None:
    # Guards the promtool checks above against passing vacuously.
    document = scrape_config(plan_of("dev"))
    document["scrape_configs"][0]["metric_relabel_configs"][0]["regex"] = "http_requests_total("
    assert run_promtool(yaml.safe_dump(document)).returncode != 0


def test_prod_scraper_uploads_exactly_the_rendered_config() -> None:
    plan = plan_of("prod")
    assert plan.one(SCRAPER).inputs["scrapeConfiguration"] == collection_of(plan).inputs["scrapeConfig"]


@pytest.mark.parametrize(("stack", "interval"), [("dev", "60s"), ("staging", "30s"), ("prod", "30s")])
def test_scrape_interval_follows_the_stack(stack: str, interval: str) -> None:
    assert scrape_config(plan_of(stack))["global"]["scrape_interval"] == interval


def _static_labels(job: dict[str, Any]) -> dict[str, str]:
    return {
        r["target_label"]: r["replacement"]
        for r in job["relabel_configs"]
        if "replacement" in r and "source_labels" not in r
    }


def test_every_job_attaches_service_env_and_cluster(stack_plan: Plan) -> None:
    for name, job in jobs(scrape_config(stack_plan)).items():
        labels = _static_labels(job)
        assert labels["env"] == stack_plan.stack, name
        assert labels["cluster"] == STACK_CLUSTER[stack_plan.stack], name
        assert labels["service"] == name


def test_dev_scrapes_the_catalog_static_targets_only() -> None:
    found = jobs(scrape_config(plan_of("dev")))
    assert set(found) == CATALOG_JOBS
    assert found["api"]["static_configs"] == [{"targets": ["backend:8000"]}]
    assert found["airflow"]["static_configs"] == [{"targets": ["airflow-statsd-exporter:9102"]}]
    assert all("kubernetes_sd_configs" not in job for job in found.values())


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_discovery_keeps_only_the_catalog_service_and_port(stack: str) -> None:
    found = jobs(scrape_config(plan_of(stack)))
    api, airflow = found["api"], found["airflow"]
    assert api["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": ["screener"]}}]
    assert api["relabel_configs"][:2] == [
        {
            "source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"],
            "regex": "screener;backend",
            "action": "keep",
        },
        {"source_labels": ["__address__"], "regex": ".+:8000", "action": "keep"},
    ]
    assert airflow["relabel_configs"][0]["regex"] == "airflow;airflow-statsd-exporter"
    assert set(found) >= CATALOG_JOBS | CLUSTER_JOBS


def test_only_the_in_cluster_agent_scrapes_itself() -> None:
    assert "collector" in jobs(scrape_config(plan_of("staging")))
    assert "collector" not in jobs(scrape_config(plan_of("prod")))


def test_managed_scraper_kubelet_jobs_use_only_the_token_amp_accepts() -> None:
    found = jobs(scrape_config(plan_of("prod")))
    for name in ("kubelet", "cadvisor"):
        assert found[name]["authorization"] == {
            "type": "Bearer",
            "credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token",
        }
        assert "tls_config" not in found[name]
        assert {"target_label": "__address__", "replacement": "kubernetes.default.svc:443"} in found[name][
            "relabel_configs"
        ]


def test_kube_state_metrics_keeps_the_namespace_and_pod_it_reports() -> None:
    job = jobs(scrape_config(plan_of("staging")))["kube-state-metrics"]
    assert job["honor_labels"] is True
    assert not any(r.get("target_label") in {"namespace", "pod"} for r in job["relabel_configs"])


def test_kubernetes_discovery_blocks_follow_the_upstream_schema() -> None:
    for stack in ("staging", "prod"):
        for name, job in jobs(scrape_config(plan_of(stack))).items():
            for sd in job.get("kubernetes_sd_configs", []):
                assert set(sd) <= K8S_SD_KEYS, name
                role = sd["role"]
                used = {
                    label
                    for rule in job["relabel_configs"]
                    for label in rule.get("source_labels", [])
                    if label.startswith("__meta_kubernetes_")
                }
                assert used <= K8S_META_BY_ROLE[role], (stack, name, used - K8S_META_BY_ROLE[role])


def test_each_job_keeps_exactly_its_sources_catalog_series(stack_plan: Plan) -> None:
    sources = {
        "api": "application",
        "postgres": "postgres_exporter",
        "redis": "redis_exporter",
        "nginx": "nginx-prometheus-exporter",
        "celery": "celery-exporter",
        "airflow": "statsd_exporter",
        "kube-state-metrics": "kube-state-metrics",
        "node-exporter": "node_exporter",
        "kubelet": "kubelet",
        "cadvisor": "cadvisor",
        "collector": "collector",
    }
    for name, job in jobs(scrape_config(stack_plan)).items():
        # The keep-list first; after it only the drop rules narrowing a kept series (kube_pod_owner).
        rule, *narrowing = job["metric_relabel_configs"]
        assert rule["action"] == "keep" and rule["source_labels"] == ["__name__"], name
        assert set(rule["regex"].split("|")) == scraped_series_names(sources[name]), name
        expected = NARROWED_SERIES.get(sources[name], ())
        assert [(r["action"], r["source_labels"][0], r["regex"].split(";")[0]) for r in narrowing] == [
            ("drop", "__name__", n.name) for n in expected
        ], name
        assert keep_regex(job).match("go_gc_duration_seconds") is None


def test_a_static_stack_without_targets_is_refused_by_the_config_before_rendering() -> None:
    base = stack_settings("dev")
    services = [s.model_dump(by_alias=True, exclude_none=True) for s in base.services]
    services[0]["scrape"].pop("staticTargets")
    with pytest.raises(ValueError, match=r"service\(s\) 'api' have no scrape\.staticTargets"):
        StackInput.model_validate({**base.model_dump(by_alias=True, exclude_none=True), "services": services})


def _stored(job: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether the job's metric_relabel_configs keep a sample with `labels` (keep/drop, anchored RE2 as in
    Prometheus' relabel package: source label values joined by ';', a missing label read as '')."""
    for rule in job["metric_relabel_configs"]:
        value = ";".join(labels.get(name, "") for name in rule["source_labels"])
        matched = re.fullmatch(f"(?:{rule['regex']})", value) is not None
        if (rule["action"] == "keep" and not matched) or (rule["action"] == "drop" and matched):
            return False
    return True


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kube_pod_owner_is_kept_for_job_owners_only(stack: str) -> None:
    """KubePodNotReady subtracts Job-owned pods (kubernetes-mixin's owner_kind!="Job"); no other owner is stored."""
    job = jobs(scrape_config(plan_of(stack)))["kube-state-metrics"]
    owner = {"__name__": "kube_pod_owner", "namespace": "screener", "pod": "p"}
    assert _stored(job, {**owner, "owner_kind": "Job"})
    for kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "CronJob", "Jobs", "J", "Jo", "<none>", ""):
        assert not _stored(job, {**owner, "owner_kind": kind}), kind
    # The narrowing touches nothing else.
    assert _stored(job, {"__name__": "kube_pod_status_phase", "phase": "Running"})
    assert _stored(job, {"__name__": "kube_daemonset_status_number_available", "daemonset": "node-exporter"})
    assert not _stored(job, {"__name__": "kube_pod_info"})


def test_the_owner_check_catches_a_keep_list_that_stores_every_owner() -> None:
    job = jobs(scrape_config(plan_of("staging")))["kube-state-metrics"]
    planted = {**job, "metric_relabel_configs": job["metric_relabel_configs"][:1]}
    assert _stored(planted, {"__name__": "kube_pod_owner", "owner_kind": "ReplicaSet"})
