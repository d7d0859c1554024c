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

import promql_parser
import pytest
import yaml

from infra.alerting.rule_kubernetes import _layers, watched_namespaces, with_service, workload_service_prefixes
from infra.alerting.rules import render_rule_files
from infra.config import StackInput
from infra.config.stackfile import stack_settings
from infra.metrics import scraped_series_names
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
    assert any(d.message.startswith("no cluster alert rules (resources, kubernetes)") for d in plan.diagnostics)
    assert not any(d.message.startswith("no cluster alert rules") for d in plan_of("staging").diagnostics)


# --- the contract: kube-state-metrics v2.20.0 ------------------------------------

_POD, _CONTAINER = {"namespace", "pod", "uid"}, {"namespace", "pod", "uid", "container"}
_DEPLOYMENT, _STATEFULSET = {"namespace", "deployment"}, {"namespace", "statefulset"}
_HPA, _DAEMONSET = {"namespace", "horizontalpodautoscaler"}, {"namespace", "daemonset"}
# Each metric's labels as kube-state-metrics v2.20.0 documents them (the appVersion of the pinned chart
# kube-state-metrics 8.4.0): github.com/kubernetes/kube-state-metrics, tag v2.20.0,
# docs/metrics/workload/{pod,deployment,statefulset,daemonset,job,cronjob,horizontalpodautoscaler}-metrics.md
# and docs/metrics/cluster/node-metrics.md. Re-read against v2.15.0 (chart 5.33.0, the pin before): the only
# change to these is `reason` on kube_deployment_status_condition (CHANGELOG v2.16.0, PR #2719); the rules
# aggregate it away (max by (namespace, deployment)).
KSM_V2_20_LABELS: dict[str, set[str]] = {
    "kube_pod_container_resource_limits": _CONTAINER | {"resource", "unit", "node"},
    "kube_pod_container_resource_requests": _CONTAINER | {"resource", "unit", "node"},
    "kube_pod_container_status_restarts_total": _CONTAINER,
    "kube_pod_container_status_waiting_reason": _CONTAINER | {"reason"},
    "kube_pod_container_status_last_terminated_reason": _CONTAINER | {"reason"},
    "kube_pod_status_phase": _POD | {"phase"},
    "kube_pod_status_ready": _POD | {"condition"},
    "kube_deployment_spec_replicas": _DEPLOYMENT,
    "kube_deployment_status_replicas_available": _DEPLOYMENT,
    "kube_deployment_status_replicas_updated": _DEPLOYMENT,
    "kube_deployment_status_observed_generation": _DEPLOYMENT,
    "kube_deployment_metadata_generation": _DEPLOYMENT,
    "kube_deployment_status_condition": _DEPLOYMENT | {"condition", "status", "reason"},
    "kube_statefulset_replicas": _STATEFULSET,
    "kube_statefulset_status_replicas_ready": _STATEFULSET,
    "kube_statefulset_status_replicas_updated": _STATEFULSET,
    "kube_statefulset_status_observed_generation": _STATEFULSET,
    "kube_statefulset_metadata_generation": _STATEFULSET,
    "kube_job_failed": {"namespace", "job_name", "condition"},
    "kube_cronjob_next_schedule_time": {"namespace", "cronjob"},
    "kube_horizontalpodautoscaler_status_current_replicas": _HPA,
    "kube_horizontalpodautoscaler_spec_max_replicas": _HPA,
    "kube_horizontalpodautoscaler_spec_min_replicas": _HPA,
    "kube_node_status_condition": {"node", "condition", "status"},
    "kube_node_spec_unschedulable": {"node"},
    "kube_pod_owner": _POD | {"owner_kind", "owner_name", "owner_is_controller"},
    "kube_daemonset_status_desired_number_scheduled": _DAEMONSET,
    "kube_daemonset_status_current_number_scheduled": _DAEMONSET,
    "kube_daemonset_status_number_misscheduled": _DAEMONSET,
    "kube_daemonset_status_updated_number_scheduled": _DAEMONSET,
    "kube_daemonset_status_number_available": _DAEMONSET,
}
# Labels the rules write themselves (`object` and `service` are the mapping's info series').
_MADE_BY_THE_RULES = {"workload", "service", "object"}
# cAdvisor's series the mapping reads pod names from (container alerts): their labels are cAdvisor's.
_CADVISOR = {"namespace", "pod", "container"}


def test_the_catalogs_kube_state_metrics_names_are_the_documented_ones() -> None:
    """Source: kube-state-metrics v2.20.0 docs/metrics (see KSM_V2_20_LABELS)."""
    assert scraped_series_names("kube-state-metrics") == set(KSM_V2_20_LABELS)


def labels_read(expr: str) -> list[tuple[str, set[str]]]:
    """(where, labels) for every label the expression matches, groups, joins or copies from."""
    tree = promql_parser.parse(expr)
    found: list[tuple[str, set[str]]] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append((node.name or "", {m.name for m in node.matchers.matchers}))
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            found.append(("by/without", set(node.modifier.labels)))
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier and node.modifier.matching:
            found.append(("on/ignoring", set(node.modifier.matching.labels)))
        elif isinstance(node, promql_parser.Call) and node.func.name == "label_replace":
            found.append(("label_replace", {node.args[3].val}))  # the source label
        return True

    promql_parser.walk(tree, visit)
    return found


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_label_the_kubernetes_rules_read_is_one_kube_state_metrics_documents(stack: str) -> None:
    """Source: kube-state-metrics v2.20.0 docs/metrics (see KSM_V2_20_LABELS): a selector matches only
    its metric's labels; groupings, joins and label_replace read only labels some metric has."""
    documented = set().union(*KSM_V2_20_LABELS.values())
    wrong = []
    for rule in yaml.safe_load(render_rule_files(stack_settings(stack))["kubernetes"])["groups"][0]["rules"]:
        for where, labels in labels_read(rule["expr"]):
            default = _CADVISOR if where.startswith("container_") else documented | _MADE_BY_THE_RULES
            allowed = KSM_V2_20_LABELS.get(where, default)
            wrong += [(rule.get("alert", rule.get("record")), where, label) for label in sorted(labels - allowed)]
    assert wrong == []


def test_the_label_check_catches_a_label_kube_state_metrics_does_not_have() -> None:
    # `job` is the scrape's label; kube-state-metrics names a Job's `job_name` (a planted slip).
    read = labels_read(
        'label_replace(max by (namespace, job) (kube_job_failed{condition="true"}), "w", "$1", "job", "(.+)")'
    )
    assert ("by/without", {"namespace", "job"}) in read and ("label_replace", {"job"}) in read
    assert "job" not in set().union(*KSM_V2_20_LABELS.values())


# --- scale: the mapping is written once ------------------------------------------------

# AMP's quota is 1 MB per rule groups namespace; issue 27's target is 900 KB for every namespace at
# 2,000 services. The Kubernetes namespace's share of it: the chain of one regex per layer, once.
KUBERNETES_NAMESPACE_BYTES_AT_2000 = 100_000


def _generated_catalog(stack: str, size: int) -> StackInput:
    """The stack with `make bench`'s generated catalog of `size` services (bench/plan_once.py)."""
    from bench.plan_once import generated_overrides
    from infra.config.loader import NAMESPACE, decode_config_value
    from infra.config.stackfile import load_stack_file

    stack_file = load_stack_file(stack, fill_unset_secrets=False)
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): decode_config_value(value)
        for key, value in stack_file.config.items()
        if key.startswith(f"{NAMESPACE}:") and key not in stack_file.secret_keys
    }
    raw.update({key.removeprefix(f"{NAMESPACE}:"): value for key, value in generated_overrides(stack, size).items()})
    return StackInput.model_validate(raw)


def mapping_chains(rule_file: str) -> list[str]:
    """The rules (alert or record names) that spell the workload mapping's label_replace chain themselves."""
    namespace_fallback = '"service", "$1", "namespace", "(.*)")'
    rules = [rule for group in yaml.safe_load(rule_file)["groups"] for rule in group["rules"]]
    return [rule.get("alert", rule.get("record")) for rule in rules if namespace_fallback in rule["expr"]]


def test_two_thousand_services_spell_the_mapping_once_and_stay_small() -> None:
    files = render_rule_files(_generated_catalog("staging", 2000))
    assert mapping_chains(files["kubernetes"]) == ["kubernetes:object_service:info"]
    assert mapping_chains(files["resources"]) == []
    assert len(files["kubernetes"].encode()) <= KUBERNETES_NAMESPACE_BYTES_AT_2000
    # Every generated service is in the one chain (the check is not vacuous).
    assert files["kubernetes"].count("-x1999") == 1


def test_the_chain_check_catches_a_mapping_spelt_in_an_alert() -> None:
    chain = with_service("up", "pod", stack_settings("staging"))
    planted = yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": chain}]}]})
    assert mapping_chains(planted) == ["A"]
