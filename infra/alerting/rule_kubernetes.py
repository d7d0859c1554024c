"""Kubernetes objects of the platform: crash loops, OOM kills, pods that never get ready,
rollouts that stop, workloads with no replica left, nodes, Jobs, CronJobs and HPAs.

The series come from kube-state-metrics (names and labels as v2.20.0, the
pinned chart 8.4.0's appVersion, documents them); the rules follow
kubernetes-mixin's (alerts/apps_alerts.libsonnet, alerts/kubelet.libsonnet)
with its default windows, which `monitoring:kubernetes` can change. Only
stacks with Kubernetes discovery get them (dev has no cluster).

Scope: objects in the platform's namespaces (`kubernetes.namespaces`, by
default the catalog's and the collector's), so kube-system's churn pages
nobody unless the stack lists it. Nodes are the cluster's.

The `service` label: one mapping, `workload_service_prefixes` (documented in
docs/runbooks.md, "Kubernetes workloads"). A workload, or a pod named after
it, belongs to the service of the longest prefix its name equals or starts
with followed by "-"; with no such prefix its namespace is its service.
Node alerts are about the cluster: `service: cluster`. So a crash-looping
backend pod and the backend Deployment with no replica left carry the same
`service` as the API's other alerts, and the critical `KubeWorkloadDown`
holds back that service's per-pod warnings (Alertmanager's `...Down` rule).

The mapping is evaluated once, not once per alert: the recording rule
`kubernetes:object_service:info` (first in the group, so every alert after it
reads this evaluation's result) gives each object name the alerts read, in the
namespaces in scope, its `service`; each alert joins it on (namespace, name)
with `group_left (service)` (`service_join`). The label_replace chain (one
regex per layer, longest prefix last) grows with the catalog, so it is written
once: 2,000 services add one regex of 2,000 names to one rule instead of to
every alert (the container resource alerts in `rule_resources` join it too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from infra.alerting.rule_availability import COLLECTOR_SERVICE
from infra.alerting.rule_model import (
    Alert,
    Recording,
    Rule,
    RuleNamespace,
    Severity,
    dur,
    one_group_namespace,
    one_of,
    promql_string,
    regex_literal,
    secs,
    sel,
)
from infra.collection.charts import AGENT_RELEASE
from infra.config import StackInput

NAMESPACE = "kubernetes"
CLUSTER_SERVICE = "cluster"
# One series per object name in scope, valued 1, labelled namespace, object, service.
SERVICE_INFO = "kubernetes:object_service:info"
# The label each kube-state-metrics family names its object by (docs/metrics/workload/*.md, v2.20.0);
# cAdvisor's container_* series name their pod `pod`.
_OBJECT_LABEL_BY_PREFIX = (
    ("kube_pod_", "pod"),
    ("container_", "pod"),
    ("kube_deployment_", "deployment"),
    ("kube_statefulset_", "statefulset"),
    ("kube_daemonset_", "daemonset"),
    ("kube_job_", "job_name"),
    ("kube_cronjob_", "cronjob"),
    ("kube_horizontalpodautoscaler_", "horizontalpodautoscaler"),
)
# The series the container resource alerts (rule_resources) read their pods from.
CONTAINER_SERIES = ("container_memory_working_set_bytes", "container_cpu_cfs_periods_total")
# kubernetes-mixin's DaemonSet windows (alerts/apps_alerts.libsonnet: KubeDaemonSetNotScheduled 'for' 10m,
# KubeDaemonSetMisScheduled 15m, KubeDaemonSetRolloutStuck config.libsonnet kubeDaemonSetRolloutStuckFor 15m,
# its progress guard changes(...[5m]) == 0).
_DAEMONSET_NOT_SCHEDULED_FOR = "10m"
_DAEMONSET_MISSCHEDULED_FOR = "15m"
_DAEMONSET_ROLLOUT_STUCK_FOR = "15m"
_DAEMONSET_PROGRESS_WINDOW = "5m"
# How long a cordoned node may stay NotReady before KubeNodeNotReady's own wait starts: a node drained for
# replacement or scale-down is deleted, and its series end, within minutes of going NotReady; one still
# NotReady after this is a dead node someone cordoned.
_CORDONED_NOT_READY_GRACE = "15m"
# kubernetes-mixin's KubePodCrashLooping: a container that waited in CrashLoopBackOff
# at any scrape of the last 5 minutes (it alternates between waiting and running).
_CRASH_LOOP_LOOKBACK = "5m"
_BY_CONTAINER = "namespace, pod, container"


def workload_service_prefixes(settings: StackInput) -> dict[str, str]:
    """Workload-name prefix -> `service`: the one mapping every Kubernetes alert's `service` comes from.

    Each catalog service's name and its scrape.k8sService; the collector's
    Helm release when the collector runs in the cluster; then the stack's
    `kubernetes.workloadServices`, which win. A prefix that a shorter one of
    the same service already covers is left out (it would change nothing).
    """
    mapping: dict[str, str] = {}
    for service in settings.services:
        mapping[service.name] = service.name
        if service.scrape is not None and service.scrape.k8s_service:
            mapping.setdefault(service.scrape.k8s_service, service.name)
    if settings.collection.mode == "in-cluster":
        mapping.setdefault(AGENT_RELEASE, COLLECTOR_SERVICE)
    mapping.update(settings.kubernetes.workload_services)
    return {prefix: service for prefix, service in mapping.items() if _covering(prefix, mapping) != service}


def _shorter_prefixes(prefix: str, mapping: dict[str, str]) -> list[str]:
    """The mapped prefixes that `prefix` extends (`<other>-...`), shortest first.

    Read off the prefix's own hyphens rather than by scanning the mapping: a
    catalog of n services then costs n lookups, not n x n comparisons.
    """
    return [prefix[:i] for i, char in enumerate(prefix) if char == "-" and prefix[:i] in mapping]


def _covering(prefix: str, mapping: dict[str, str]) -> str | None:
    """The service the longest shorter prefix gives `prefix`, if any."""
    shorter = _shorter_prefixes(prefix, mapping)
    return mapping[shorter[-1]] if shorter else None


def watched_namespaces(settings: StackInput) -> tuple[str, ...]:
    """The stack's `kubernetes.namespaces`, or the catalog's scrape namespaces and the collection's."""
    if settings.kubernetes.namespaces:
        return tuple(sorted(settings.kubernetes.namespaces))
    return catalog_namespaces(settings)


def catalog_namespaces(settings: StackInput) -> tuple[str, ...]:
    """The catalog's scrape namespaces and the collection's: where the container resource alerts look."""
    names = {service.scrape.k8s_namespace for service in settings.services if service.scrape}
    return tuple(sorted({*names, settings.collection.namespace}))


def service_join(expr: str, name_label: str) -> str:
    """`expr` with the `service` the mapping gives the object named in its `name_label` label.

    `kubernetes:object_service:info` has one series per (namespace, object), so
    the join is many-to-one; `group_left (service)` replaces the scrape job's
    `service` with the mapped one and keeps every other label of `expr`, and
    the info's value 1 keeps `expr`'s value.
    """
    info = f'label_replace({SERVICE_INFO}, {promql_string(name_label)}, "$1", "object", "(.+)")'
    return f"(\n{expr}\n)\n* on (namespace, {name_label}) group_left (service)\n{info}"


_SERIES = re.compile(r"\b((?:kube|container)_[a-z_]+)\{")


def _object_label(metric: str) -> str:
    return next(label for prefix, label in _OBJECT_LABEL_BY_PREFIX if metric.startswith(prefix))


def service_info(settings: StackInput, exprs: Iterable[str]) -> Recording:
    """The recording rule naming the `service` of every object that `exprs` (and the container alerts) read.

    Its input is every object name those series carry in the namespaces in
    scope, so an alert never waits for an object the info lacks; the mapping
    (`with_service`) is applied once, to that union.
    """
    metrics = {name for expr in exprs for name in _SERIES.findall(expr)} | set(CONTAINER_SERIES)
    by_label: dict[str, list[str]] = {}
    for metric in sorted(metrics):
        by_label.setdefault(_object_label(metric), []).append(metric)
    scope = {"namespace": one_of(sorted({*watched_namespaces(settings), *catalog_namespaces(settings)}))}
    names = [
        f"label_replace(\ngroup by (namespace, {label}) ("
        + " or ".join(sel(metric, **scope) for metric in metric_names)
        + f'),\n"object", "$1", {promql_string(label)}, "(.+)")'
        for label, metric_names in sorted(by_label.items())
    ]
    union = "group by (namespace, object) (\n" + "\nor\n".join(names) + "\n)"
    return Recording(record=SERVICE_INFO, expr=with_service(union, "object", settings))


def with_service(expr: str, name_label: str, settings: StackInput) -> str:
    """`expr` with its `service` label set from the object name in `name_label` (see the module docstring).

    The namespace first; then the prefixes, layer by layer: a prefix comes
    after every prefix of another service that it extends, since
    label_replace leaves the label alone where its regex does not match and
    the last write wins. Within a layer no prefix extends another service's,
    so one label_replace serves every prefix that is its service's own name
    (`$1`), and one more each service reached by another name.
    """
    text = f'label_replace(\n{expr},\n"service", "$1", "namespace", "(.*)")'
    for layer in _layers(workload_service_prefixes(settings)):
        for service, prefixes in sorted(layer.items()):
            # Longest first: RE2 takes the first alternative that lets the whole name match.
            names = "|".join(regex_literal(p) for p in sorted(prefixes, key=lambda prefix: (-len(prefix), prefix)))
            # Every string literal through promql_string, as `sel()` writes matcher values.
            replacement, source, regex = (promql_string(s) for s in (service, name_label, f"({names})(-.*)?"))
            text = f'label_replace(\n{text},\n"service", {replacement}, {source}, {regex})'
    return text


_OWN_NAME = "$1"


def _layers(mapping: dict[str, str]) -> list[dict[str, list[str]]]:
    """The prefixes in the order they must be applied: per layer, replacement -> prefixes."""
    depths: dict[str, int] = {}

    def depth(prefix: str) -> int:
        if prefix not in depths:
            outer = [other for other in _shorter_prefixes(prefix, mapping) if mapping[other] != mapping[prefix]]
            depths[prefix] = 1 + max(depth(other) for other in outer) if outer else 0
        return depths[prefix]

    layers: list[dict[str, list[str]]] = []
    for prefix, service in mapping.items():
        while len(layers) <= depth(prefix):
            layers.append({})
        replacement = _OWN_NAME if prefix == service else service
        layers[depth(prefix)].setdefault(replacement, []).append(prefix)
    return layers


def _mapped(
    name: str,
    expr: str,
    name_label: str,
    *,
    for_: str,
    summary: str,
    description: str,
    severity: Severity = "warning",
) -> Alert:
    """An alert whose `service` the mapping derives from the object name in `name_label`."""
    return Alert(
        name=name,
        expr=service_join(expr, name_label),
        for_=for_,
        severity=severity,
        service=None,
        summary=summary,
        description=description,
    )


def _as_workload(expr: str, label: str) -> str:
    """Copy the object's name (`deployment`, `statefulset`, `job_name`, ...) into `workload`."""
    return f'label_replace(\n{expr},\n"workload", "$1", "{label}", "(.+)")'


def _minutes(value: int) -> str:
    return f"{value}m" if value else "0"


def _containers(settings: StackInput, scope: dict[str, str]) -> list[Rule]:
    k8s = settings.kubernetes
    restarts = sel("kube_pod_container_status_restarts_total", **scope)
    waiting = sel("kube_pod_container_status_waiting_reason", **scope, reason="CrashLoopBackOff")
    oom = sel("kube_pod_container_status_last_terminated_reason", **scope, reason="OOMKilled")
    crash_loop = (
        f"max by ({_BY_CONTAINER}) (max_over_time({waiting}[{dur(_CRASH_LOOP_LOOKBACK)}])) >= 1\n"
        f"or\nmax by ({_BY_CONTAINER}) (increase({restarts}[{dur(f'{k8s.crash_loop_window_minutes}m')}]))\n"
        f">= {k8s.crash_loop_restarts}"
    )
    # The last termination's reason stays OOMKilled until the container ends
    # another way (kube-state-metrics reports LastTerminationState), so only a
    # restart within the window makes it news.
    oom_killed = (
        f"max by ({_BY_CONTAINER}) (increase({restarts}[{dur(f'{k8s.oom_kill_window_minutes}m')}])) > 0\n"
        f"and on ({_BY_CONTAINER})\nmax by ({_BY_CONTAINER}) ({oom}) == 1"
    )
    phase = "kube_pod_status_phase"
    # A Job's pod waits for its turn (a parallelism limit, a queue of Jobs) or ends Failed and is retried:
    # KubeJobFailed reports the Job, so its pods page nobody here. kubernetes-mixin's KubePodNotReady
    # (alerts/apps_alerts.libsonnet) keeps only pods whose kube_pod_owner has owner_kind!="Job"; the
    # collector keeps kube_pod_owner for Job owners only (scrape_config.NARROWED_SERIES), so this
    # subtracts those, and a pod without an owner still alerts.
    not_ready = (
        f"max by (namespace, pod) (\n  {sel(phase, **scope, phase='~Pending|Unknown')} == 1\n  or\n"
        f"  ({sel(phase, **scope, phase='Running')} == 1\n"
        f"  and on (namespace, pod) {sel('kube_pod_status_ready', **scope, condition='true')} == 0)\n)\n"
        f"unless on (namespace, pod)\n{sel('kube_pod_owner', **scope, owner_kind='Job')}"
    )
    return [
        # One replica restarting is a warning: its siblings still serve. KubeWorkloadDown pages.
        _mapped(
            "KubePodCrashLooping",
            crash_loop,
            "pod",
            for_=_minutes(k8s.crash_loop_for_minutes),
            summary="A container is crash-looping.",
            description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} "
            "keeps restarting (waiting in CrashLoopBackOff, or at least "
            f"{k8s.crash_loop_restarts} restarts in {k8s.crash_loop_window_minutes} minutes).",
        ),
        _mapped(
            "KubeContainerOOMKilled",
            oom_killed,
            "pod",
            # A kill is a fact, not a trend: tell at once; the window keeps it open.
            for_="0",
            summary="A container was killed for using too much memory.",
            description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} "
            f"was OOM-killed and restarted in the last {k8s.oom_kill_window_minutes} minutes.",
        ),
        _mapped(
            "KubePodNotReady",
            not_ready,
            "pod",
            for_=_minutes(k8s.pod_not_ready_for_minutes),
            summary="A pod has not been ready for a long time.",
            description="Pod {{ $labels.namespace }}/{{ $labels.pod }} has been Pending, Unknown or not Ready for "
            f"{k8s.pod_not_ready_for_minutes} minutes.",
        ),
    ]


def _workloads(settings: StackInput, scope: dict[str, str]) -> list[Rule]:
    k8s = settings.kubernetes
    window = dur(f"{k8s.rollout_progress_window_minutes}m")

    def deploy(metric: str, **matchers: str) -> str:
        return sel(f"kube_deployment_{metric}", **scope, **matchers)

    def sts(metric: str) -> str:
        return sel(f"kube_statefulset_{metric}", **scope)

    def both(deployments: str, statefulsets: str) -> str:
        return f"{_as_workload(deployments, 'deployment')}\nor\n{_as_workload(statefulsets, 'statefulset')}"

    # A rollout in progress changes the updated-replica count; only a shortfall
    # with no such change for the window is stuck (kubernetes-mixin's guard).
    missing = both(
        f"({deploy('spec_replicas')} - {deploy('status_replicas_available')}) > 0\n"
        f"and changes({deploy('status_replicas_updated')}[{window}]) == 0",
        f"({sts('replicas')} - {sts('status_replicas_ready')}) > 0\n"
        f"and changes({sts('status_replicas_updated')}[{window}]) == 0",
    )
    stuck = both(
        f"max by (namespace, deployment) (\n  {deploy('status_observed_generation')}\n"
        f"  != {deploy('metadata_generation')}\n"
        f"  or {deploy('status_condition', condition='Progressing', status='false')} == 1\n)",
        f"{sts('status_observed_generation')}\n!= {sts('metadata_generation')}",
    )
    down = both(
        f"{deploy('status_replicas_available')} == 0\nand {deploy('spec_replicas')} > 0",
        f"{sts('status_replicas_ready')} == 0\nand {sts('replicas')} > 0",
    )
    return [
        _mapped(
            "KubeWorkloadReplicasMismatch",
            missing,
            "workload",
            for_=_minutes(k8s.replicas_mismatch_for_minutes),
            summary="A Deployment or StatefulSet has fewer ready replicas than it wants.",
            description="{{ $labels.namespace }}/{{ $labels.workload }} has had {{ $value }} replica(s) fewer than "
            f"it wants for {k8s.replicas_mismatch_for_minutes} minutes, and no rollout has moved in "
            f"{k8s.rollout_progress_window_minutes} minutes.",
        ),
        _mapped(
            "KubeWorkloadRolloutStuck",
            stuck,
            "workload",
            for_=_minutes(k8s.rollout_stuck_for_minutes),
            summary="A Deployment or StatefulSet rollout has stopped progressing.",
            description="The rollout of {{ $labels.namespace }}/{{ $labels.workload }} has not progressed for "
            f"{k8s.rollout_stuck_for_minutes} minutes (its controller has not observed the latest generation, or the "
            "Deployment passed its progress deadline).",
        ),
        _mapped(
            "KubeWorkloadDown",
            down,
            "workload",
            # Longer than a Recreate rollout takes; shorter than anyone should wait for a dead service.
            for_=_minutes(k8s.workload_down_for_minutes),
            severity="critical",
            summary="A Deployment or StatefulSet has no ready replica at all.",
            description="{{ $labels.namespace }}/{{ $labels.workload }} ({{ $labels.service }}) has had no "
            f"available replica for {k8s.workload_down_for_minutes} minutes.",
        ),
    ]


def _daemonsets(scope: dict[str, str]) -> list[Rule]:
    """kubernetes-mixin's three DaemonSet alerts (alerts/apps_alerts.libsonnet), with its windows.

    node-exporter and the log collector are DaemonSets: a node without their
    pod has no metrics and no logs, and nothing else says so.
    """

    def ds(metric: str) -> str:
        return sel(f"kube_daemonset_{metric}", **scope)

    desired = ds("status_desired_number_scheduled")
    not_scheduled = _as_workload(f"{desired}\n- {ds('status_current_number_scheduled')}\n> 0", "daemonset")
    misscheduled = _as_workload(f"{ds('status_number_misscheduled')}\n> 0", "daemonset")
    # Any of the four shortfalls while the rollout has not moved for the window: unavailable pods
    # (a crash-looping or unready node-exporter) count as stuck too, as in the mixin.
    stuck = _as_workload(
        f"(\n  ({ds('status_current_number_scheduled')}\n  != {desired})\n"
        f"  or ({ds('status_number_misscheduled')}\n  != 0)\n"
        f"  or ({ds('status_updated_number_scheduled')}\n  != {desired})\n"
        f"  or ({ds('status_number_available')}\n  != {desired})\n)\n"
        f"and changes({ds('status_updated_number_scheduled')}[{dur(_DAEMONSET_PROGRESS_WINDOW)}]) == 0",
        "daemonset",
    )
    return [
        _mapped(
            "KubeDaemonSetNotScheduled",
            not_scheduled,
            "workload",
            for_=_DAEMONSET_NOT_SCHEDULED_FOR,
            summary="DaemonSet pods are not scheduled.",
            description="{{ $value }} pod(s) of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} are not "
            f"scheduled on nodes that should run one, for {_DAEMONSET_NOT_SCHEDULED_FOR}.",
        ),
        _mapped(
            "KubeDaemonSetMisScheduled",
            misscheduled,
            "workload",
            for_=_DAEMONSET_MISSCHEDULED_FOR,
            summary="DaemonSet pods run where they should not.",
            description="{{ $value }} pod(s) of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} run on "
            f"nodes their node selector or tolerations exclude, for {_DAEMONSET_MISSCHEDULED_FOR}.",
        ),
        _mapped(
            "KubeDaemonSetRolloutStuck",
            stuck,
            "workload",
            for_=_DAEMONSET_ROLLOUT_STUCK_FOR,
            summary="A DaemonSet rollout is stuck or its pods are unavailable.",
            description="DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} has pods not scheduled, not "
            f"updated or not available, and its rollout has not moved, for {_DAEMONSET_ROLLOUT_STUCK_FOR}.",
        ),
    ]


def _batch(settings: StackInput, scope: dict[str, str]) -> list[Rule]:
    k8s = settings.kubernetes
    # kube_job_failed exists only once the Job has a Failed condition (its
    # backoffLimit or deadline spent): a pod that failed and was retried
    # into success never raises it.
    failed = _as_workload(
        f"max by (namespace, job_name) ({sel('kube_job_failed', **scope, condition='true')}) == 1", "job_name"
    )
    # kube-state-metrics computes the next run from lastScheduleTime and does
    # not report it for a suspended CronJob: a next run this far in the past was missed.
    late = _as_workload(
        f"time() - max by (namespace, cronjob) ({sel('kube_cronjob_next_schedule_time', **scope)})\n"
        f"> {secs(k8s.cron_job_late_minutes * 60)}",
        "cronjob",
    )
    current = sel("kube_horizontalpodautoscaler_status_current_replicas", **scope)
    maximum = sel("kube_horizontalpodautoscaler_spec_max_replicas", **scope)
    minimum = sel("kube_horizontalpodautoscaler_spec_min_replicas", **scope)
    maxed = _as_workload(f"{current}\n>= {maximum}\nand {maximum}\n> {minimum}", "horizontalpodautoscaler")
    return [
        _mapped(
            "KubeJobFailed",
            failed,
            "workload",
            for_=_minutes(k8s.job_failed_for_minutes),
            summary="A Kubernetes Job failed.",
            description="Job {{ $labels.namespace }}/{{ $labels.job_name }} failed: it used up its retries or "
            "its deadline. Deleting the Job after investigation clears the alert.",
        ),
        _mapped(
            "KubeCronJobNotScheduled",
            late,
            "workload",
            # The lateness is the wait already.
            for_="0",
            summary="A CronJob missed its schedule.",
            description="CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} was due "
            "{{ $value | humanizeDuration }} ago and has not run.",
        ),
        _mapped(
            "KubeHpaMaxedOut",
            maxed,
            "workload",
            for_=_minutes(k8s.hpa_maxed_out_for_minutes),
            summary="An autoscaler has been at its maximum replicas for a long time.",
            description="HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum "
            f"of {{{{ $value }}}} replicas for {k8s.hpa_maxed_out_for_minutes} minutes; load beyond it is not served.",
        ),
    ]


def _node_condition(
    name: str, condition: str, value: int, *, for_minutes: int, summary: str, description: str, cordoned: str = ""
) -> Alert:
    """A node whose `condition` (kube_node_status_condition, status true) has `value`, unless it is cordoned.

    A cordoned node is being drained on purpose (an upgrade, a scale-down): not
    news. `cordoned`, when given, is the condition under which a cordoned node
    is news all the same.
    """
    is_cordoned = "kube_node_spec_unschedulable == 1"
    excused = f"({is_cordoned}\n unless on (node)\n ({cordoned}))" if cordoned else is_cordoned
    return Alert(
        name=name,
        expr=f"{sel('kube_node_status_condition', condition=condition, status='true')} == {value}\n"
        f"unless on (node)\n{excused}",
        for_=_minutes(for_minutes),
        severity="warning",
        service=CLUSTER_SERVICE,
        summary=summary,
        description=description,
    )


def _nodes(settings: StackInput) -> list[Rule]:
    k8s = settings.kubernetes
    ready = sel("kube_node_status_condition", condition="Ready", status="true")
    return [
        _node_condition(
            "KubeNodeNotReady",
            "Ready",
            0,
            for_minutes=k8s.node_not_ready_for_minutes,
            summary="A node is not ready.",
            description="Node {{ $labels.node }} has not been Ready for "
            f"{k8s.node_not_ready_for_minutes} minutes (after {_CORDONED_NOT_READY_GRACE} more if it is cordoned).",
            # A drained node goes NotReady briefly while it is replaced and then its series end; one that stays
            # NotReady past the grace is a dead node someone cordoned, and nothing else would report it.
            # NotReady at every sample of the grace, and already at its start (a node first seen NotReady
            # has not been NotReady for the grace yet).
            cordoned=f"max_over_time({ready}[{dur(_CORDONED_NOT_READY_GRACE)}]) == 0\n"
            f" and on (node)\n {ready} offset {dur(_CORDONED_NOT_READY_GRACE)} == 0",
        ),
        _node_condition(
            "KubeNodePressure",
            "~MemoryPressure|DiskPressure|PIDPressure",
            1,
            for_minutes=k8s.node_pressure_for_minutes,
            summary="A node is under memory, disk or PID pressure.",
            description="Node {{ $labels.node }} has had {{ $labels.condition }} for "
            f"{k8s.node_pressure_for_minutes} minutes: the kubelet evicts pods and admits no new ones.",
        ),
    ]


def kubernetes_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    if settings.collection.discovery != "kubernetes":
        return ()
    scope = {"namespace": one_of(watched_namespaces(settings))}
    alerts = [
        *_containers(settings, scope),
        *_workloads(settings, scope),
        *_daemonsets(scope),
        *_batch(settings, scope),
        *_nodes(settings),
    ]
    # First in the group: the alerts after it read this evaluation's mapping (nodes are `cluster`'s).
    info = service_info(settings, (rule.expr for rule in alerts if isinstance(rule, Alert) and rule.service is None))
    return one_group_namespace(NAMESPACE, [info, *alerts])
