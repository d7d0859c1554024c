"""The Celery exporter under the mock engine: where it runs, how it gets the broker URL, how the scrape finds it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc
from pydantic import ValidationError

from infra.collection import celery_exporter
from infra.config import ConfigError
from infra.config.model import StackInput
from infra.config.stackfile import SecretValue, stack_settings
from planner.engine import SECRET, Plan, PlannedResource
from tests.collection.helpers import SECRET as K8S_SECRET
from tests.collection.helpers import jobs, scrape_config
from tests.conftest import plan_of

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
COMPONENT = "monitoring:index:CeleryExporter"
BROKER_URL = "rediss://:br0ker-pa55word@celery-broker.screener.svc.cluster.local:6379/0"
# An exact release (optionally with a suffix) or a digest: never a moving tag.
PINNED_IMAGE = re.compile(r"^[^:@]+(?::[0-9]+)?/[^:@]+(?::v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?|@sha256:[0-9a-f]{64})$")


def _deployment(plan: Plan) -> PlannedResource:
    return plan.one(DEPLOYMENT, "collection-celery-exporter-deployment")


def _service(plan: Plan) -> PlannedResource:
    return plan.one(SERVICE, "collection-celery-exporter-service")


def _container(plan: Plan) -> dict[str, Any]:
    (container,) = _deployment(plan).inputs["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def _collection_override(stack: str, **exporters: Any) -> dict[str, Any]:
    collection: dict[str, Any] = yaml.safe_load(plan_of(stack).stack_file.config["monitoring:collection"])
    collection["exporters"] = {**collection.get("exporters", {}), **exporters}
    return {"monitoring:collection": collection}


def _kept_by(job: dict[str, Any], labels: dict[str, str]) -> bool:
    """Prometheus' `keep` relabelling: source labels joined by ';', regex anchored at both ends."""
    for rule in job["relabel_configs"]:
        if rule.get("action") != "keep":
            continue
        value = ";".join(labels.get(name, "") for name in rule["source_labels"])
        if not re.fullmatch(rule["regex"], value):
            return False
    return True


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_exporter_runs_in_the_clusters_of_staging_and_prod(stack: str) -> None:
    plan = plan_of(stack)
    component = plan.one(COMPONENT, "collection-celery-exporter")
    assert component.parent == plan.one("monitoring:index:MetricsCollection", "collection").urn
    assert _deployment(plan).inputs["metadata"] == _service(plan).inputs["metadata"]
    assert _deployment(plan).inputs["metadata"]["name"] == "celery-exporter"
    assert _deployment(plan).inputs["metadata"]["namespace"] == "screener"
    assert plan.outputs["collection_celery_exporter"] == "celery-exporter"


def test_dev_deploys_no_exporter() -> None:
    plan = plan_of("dev")
    assert plan.of_type(COMPONENT) == [] and plan.of_type(DEPLOYMENT) == [] and plan.of_type(SERVICE) == []
    assert "collection_celery_exporter" not in plan.outputs


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_service_is_what_the_celery_scrape_job_discovers(stack: str) -> None:
    plan = plan_of(stack)
    job = jobs(scrape_config(plan))["celery"]
    service = _service(plan).inputs
    (port,) = service["spec"]["ports"]
    container_ports = {p["name"]: p["containerPort"] for p in _container(plan)["ports"]}
    # Endpoints discovery reports the pod's address on the Service's target port.
    endpoint = {
        "__meta_kubernetes_namespace": service["metadata"]["namespace"],
        "__meta_kubernetes_service_name": service["metadata"]["name"],
        "__address__": f"10.1.2.3:{container_ports[port['targetPort']]}",
    }
    (discovery,) = job["kubernetes_sd_configs"]
    assert discovery["role"] == "endpoints"
    assert service["metadata"]["namespace"] in discovery["namespaces"]["names"]
    assert _kept_by(job, endpoint)
    assert port["port"] == container_ports["metrics"] == 9808
    # The same check refuses a Service the job does not select, so passing above means something.
    assert not _kept_by(job, {**endpoint, "__address__": "10.1.2.3:9809"})
    assert not _kept_by(job, {**endpoint, "__meta_kubernetes_service_name": "celery"})
    # The Service selects the Deployment's pods.
    pod_labels = _deployment(plan).inputs["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert _deployment(plan).inputs["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


def test_exporter_listens_on_the_catalog_port() -> None:
    container = _container(plan_of("staging"))
    assert "--port=9808" in container["args"]
    assert container["args"] == ["--port=9808", "--queues=celery"]


def test_image_is_pinned_to_an_exact_release() -> None:
    image = _container(plan_of("prod"))["image"]
    assert image == celery_exporter.IMAGE == "ghcr.io/danihodovic/celery-exporter:0.12.2"
    assert PINNED_IMAGE.match(image)
    assert not PINNED_IMAGE.match("ghcr.io/danihodovic/celery-exporter:latest")
    assert not PINNED_IMAGE.match("danihodovic/celery-exporter")
    assert _container(plan_of("prod"))["imagePullPolicy"] == "IfNotPresent"


def test_exporter_runs_as_non_root_without_privileges_or_a_writable_root() -> None:
    pod = _deployment(plan_of("prod")).inputs["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert _container(plan_of("prod"))["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {m["mountPath"] for m in _container(plan_of("prod"))["volumeMounts"]} == {"/tmp"}


def test_readiness_checks_the_broker_connection_on_the_metrics_port() -> None:
    container = _container(plan_of("staging"))
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    # Liveness is patient: it must not restart the exporter on a short broker blip.
    liveness = container["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 120


def test_exporter_has_requests_and_a_memory_limit() -> None:
    resources = _container(plan_of("staging"))["resources"]
    assert resources["requests"] == {"cpu": "50m", "memory": "128Mi"}
    assert resources["limits"] == {"memory": "256Mi"}


def test_one_replica_replaced_not_rolled_so_counters_are_never_doubled() -> None:
    spec = _deployment(plan_of("prod")).inputs["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_without_the_config_secret_the_exporter_reads_the_existing_secret() -> None:
    plan = plan_of("staging")
    (broker,) = [e for e in _container(plan)["env"] if e["name"] == "CE_BROKER_URL"]
    assert broker == {
        "name": "CE_BROKER_URL",
        "valueFrom": {"secretKeyRef": {"name": "celery-exporter-broker", "key": "CELERY_BROKER_URL"}},
    }
    # No broker Secret is declared (other components' Secrets, such as Sentry's, may be).
    assert "celery-exporter-broker" not in [s.inputs["metadata"]["name"] for s in plan.of_type(K8S_SECRET)]


def test_broker_url_reaches_kubernetes_only_as_a_secret(plan_with: Callable[..., Plan]) -> None:
    plan = plan_with("prod", {"monitoring:celeryBrokerUrl": SecretValue(BROKER_URL)})
    secret = plan.one(K8S_SECRET, "collection-celery-exporter-broker")
    assert secret.inputs["metadata"]["name"] == "celery-exporter-broker"
    assert secret.inputs["metadata"]["namespace"] == "screener"
    assert secret.inputs["stringData"] == SECRET
    # The engine receives the URL under the Secret's key, wrapped as a secret.
    raw = secret.raw_inputs["stringData"]
    assert rpc.is_rpc_secret(raw) and raw["value"] == {"CELERY_BROKER_URL": BROKER_URL}
    (broker,) = [e for e in _container(plan)["env"] if e["name"] == "CE_BROKER_URL"]
    assert broker["valueFrom"]["secretKeyRef"] == {"name": "celery-exporter-broker", "key": "CELERY_BROKER_URL"}
    assert secret.urn in _deployment(plan).depends_on
    everything_visible = json.dumps([[r.inputs, r.outputs] for r in plan.resources] + [plan.outputs], default=repr)
    assert "br0ker-pa55word" not in everything_visible and "celery-broker.screener" not in everything_visible


def test_broker_secret_name_and_key_come_from_config(plan_with: Callable[..., Plan]) -> None:
    plan = plan_with(
        "staging",
        _collection_override("staging", celery={"brokerSecretName": "celery-app", "brokerSecretKey": "BROKER"}),
    )
    (broker,) = [e for e in _container(plan)["env"] if e["name"] == "CE_BROKER_URL"]
    assert broker["valueFrom"]["secretKeyRef"] == {"name": "celery-app", "key": "BROKER"}


def test_exporter_can_be_turned_off_per_stack(plan_with: Callable[..., Plan]) -> None:
    plan = plan_with("prod", _collection_override("prod", celery={"enabled": False}))
    assert plan.of_type(DEPLOYMENT) == [] and plan.of_type(SERVICE) == []
    assert "collection_celery_exporter" not in plan.outputs


def test_a_queue_name_with_a_comma_is_refused_naming_the_setting(plan_with: Callable[..., Plan]) -> None:
    with pytest.raises(ConfigError) as info:
        plan_with("staging", _collection_override("staging", celery={"queues": ["celery,beat"]}))
    (problem,) = info.value.problems
    assert problem.startswith("stacks/Pulumi.staging.yaml: monitoring:collection.exporters.celery.queues")
    assert "'celery,beat' must be non-empty, without commas or spaces" in problem


def test_two_scraped_celery_services_are_refused_with_the_fix() -> None:
    settings = stack_settings("prod")
    celery = next(s for s in settings.services if s.kind == "celery")
    with pytest.raises(ValidationError, match=r"celery services celery, celery-reports each need an exporter") as info:
        StackInput.model_validate(
            {
                **settings.model_dump(by_alias=True),
                "services": [
                    *settings.model_dump(by_alias=True)["services"],
                    {
                        **celery.model_dump(by_alias=True),
                        "name": "celery-reports",
                        "scrape": {
                            **celery.model_dump(by_alias=True)["scrape"],
                            "k8sService": "celery-reports-exporter",
                        },
                    },
                ],
            }
        )
    assert "set exporters.celery.enabled to false" in str(info.value)
