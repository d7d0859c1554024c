"""How the stack settings shape the Kubernetes rules: the `service` mapping and the namespaces in scope.

The mapping is checked where it matters, on the real rule engine: promtool
evaluates the rendered KubePodCrashLooping of a stack whose
`workloadServices` adds a longer prefix, and the `service` each pod gets is
read from the alerts (label_replace applies in order, and only the order
makes the longest prefix win).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from infra.alerting.rule_kubernetes import _layers, watched_namespaces, workload_service_prefixes
from infra.alerting.rules import render_rule_files
from infra.config import StackInput
from planner.stackfile import stack_settings
from tests.alerting.test_rules_promtool import PROMTOOL
from tests.conftest import plan_of


def _with_kubernetes(**kubernetes: Any) -> StackInput:
    settings = stack_settings("staging")
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(update=kubernetes)})


def test_default_prefixes_are_the_catalog_names_its_kubernetes_services_and_the_in_cluster_collector() -> None:
    assert workload_service_prefixes(stack_settings("staging")) == {
        "api": "api",
        "backend": "api",
        "frontend": "frontend",
        "postgres": "postgres",  # postgres-exporter adds nothing: postgres covers it
        "redis": "redis",
        "nginx": "nginx",
        "celery": "celery",
        "airflow": "airflow",
        "collector": "collector",
    }
    # The managed scraper runs outside the cluster: no collector workload to name.
    assert "collector" not in workload_service_prefixes(stack_settings("prod"))


def test_a_longer_prefix_of_another_service_comes_after_the_one_it_extends() -> None:
    layers = _layers({"api": "api", "api-worker": "celery", "api-worker-cron": "api", "nginx": "nginx"})
    assert layers == [{"$1": ["api", "nginx"]}, {"celery": ["api-worker"]}, {"api": ["api-worker-cron"]}]


def test_scope_is_the_catalog_and_collector_namespaces_unless_the_stack_lists_its_own() -> None:
    assert watched_namespaces(stack_settings("prod")) == ("airflow", "monitoring", "screener")
    listed = _with_kubernetes(namespaces=("screener", "kube-system"))
    assert watched_namespaces(listed) == ("kube-system", "screener")
    assert 'namespace=~"kube-system|screener"' in render_rule_files(listed)["kubernetes"]
    assert "kube-system" not in render_rule_files(stack_settings("prod"))["kubernetes"]


def test_the_longest_prefix_names_the_service_and_an_unmatched_pod_takes_its_namespace(tmp_path: Path) -> None:
    settings = _with_kubernetes(workload_services={"backend-worker": "celery", "backend-worker-cron": "api"})
    (tmp_path / "kubernetes.yaml").write_text(render_rule_files(settings)["kubernetes"])
    pods = {
        "backend-7d9f-abcde": "api",
        "backend-worker-5c8d-q7w2e": "celery",
        "backend-worker-cron-28935-x1": "api",
        "redis-master-0": "redis",
        "redisinsight-6b7c-h3j5k": "screener",  # `redis` is a prefix only when followed by "-"
        "grafana-agent-0": "screener",
    }
    waiting = (
        'kube_pod_container_status_waiting_reason{{namespace="screener",pod="{}",container="c",'
        'reason="CrashLoopBackOff"}}'
    )
    test = {
        "rule_files": ["kubernetes.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": waiting.format(pod), "values": "1x20"} for pod in pods],
                "alert_rule_test": [
                    {
                        "eval_time": "16m",
                        "alertname": "KubePodCrashLooping",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "service": service,
                                    "namespace": "screener",
                                    "pod": pod,
                                    "container": "c",
                                },
                                "exp_annotations": {
                                    "summary": "A container is crash-looping.",
                                    "description": f"Container c of pod screener/{pod} keeps restarting (waiting in "
                                    "CrashLoopBackOff, or at least 3 restarts in 15 minutes).",
                                    "runbook_url": f"{settings.rules.runbook_base_url}#kubepodcrashlooping",
                                },
                            }
                            for pod, service in pods.items()
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [PROMTOOL, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dev_uploads_no_cluster_rules_and_its_plan_says_so() -> None:
    plan = plan_of("dev")
    uploaded = {r.inputs["name"] for r in plan.of_type("aws:amp/ruleGroupNamespace:RuleGroupNamespace")}
    assert uploaded and not uploaded & {"kubernetes", "resources"}
    assert any(m.startswith("no cluster alert rules (resources, kubernetes)") for m in plan.diagnostics)
    assert not any(m.startswith("no cluster alert rules") for m in plan_of("staging").diagnostics)
