"""Resources on the EKS cluster: container memory vs limit, node memory and disks, volumes, CPU throttling.

These series come from cAdvisor, kube-state-metrics, the kubelet and
node_exporter, which only exist where metrics are collected through
Kubernetes discovery; a stack with static targets gets none of these rules.
Containers are limited to the namespaces the catalog and the collector use.
A container alert's `service` is its pod's under the workload mapping of the
Kubernetes rules (`rule_kubernetes.service_join`), so it groups and is
inhibited with the service's other alerts; it used to be the container's name.
"""

from __future__ import annotations

from infra.alerting.rule_kubernetes import CONTAINER_SERIES, catalog_namespaces, service_join
from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    Severity,
    dur,
    num,
    one_group_namespace,
    one_of,
    secs,
    sel,
    warning_and_critical,
)
from infra.config import StackInput

NAMESPACE = "resources"
# node_exporter reports pseudo file systems too; they are never "full" in a useful sense.
_REAL_FS = {"fstype": "!~tmpfs|overlay|squashfs|ramfs|nsfs", "mountpoint": "!"}
_NODE_SERVICE = "node"
_VOLUME_SERVICE = "storage"


def _namespaces(settings: StackInput) -> str:
    return one_of(catalog_namespaces(settings))


def _containers(settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    namespaces = _namespaces(settings)
    # The series the mapping's info reads its pods from (rule_kubernetes.CONTAINER_SERIES).
    working_set_series, periods_series = CONTAINER_SERIES
    working_set = sel(working_set_series, namespace=namespaces, container="!~|POD")
    limits = sel("kube_pod_container_resource_limits", namespace=namespaces, resource="memory")
    throttled = sel("container_cpu_cfs_throttled_periods_total", namespace=namespaces, container="!~|POD")
    periods = sel(periods_series, namespace=namespaces, container="!~|POD")
    by_container = "by (namespace, pod, container)"
    memory_ratio = (
        f"  max {by_container} ({working_set})\n  / on (namespace, pod, container)\n"
        f"  max {by_container} ({limits})\n  > {num(thresholds.memory_utilization_percent / 100)}"
    )
    throttling_ratio = (
        f"  sum {by_container} (rate({throttled}[{dur('5m')}]))\n  / on (namespace, pod, container)\n"
        f"  sum {by_container} (rate({periods}[{dur('5m')}]))\n  > {num(thresholds.cpu_throttling_percent / 100)}"
    )
    return [
        Alert(
            name="ContainerMemoryNearLimit",
            expr=service_join(memory_ratio, "pod"),
            # The OOM killer acts at 100 %; a quarter of an hour above the threshold is a trend, not a spike.
            for_="15m",
            severity="warning",
            service=None,
            summary="A container uses most of its memory limit.",
            description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} uses "
            f"{{{{ $value | humanizePercentage }}}} of its memory limit "
            f"(threshold {num(thresholds.memory_utilization_percent)}%).",
        ),
        Alert(
            name="ContainerCpuThrottled",
            expr=service_join(throttling_ratio, "pod"),
            for_="15m",
            severity="warning",
            service=None,
            summary="A container is CPU-throttled by its limit.",
            description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} was "
            "throttled in {{ $value | humanizePercentage }} of its CPU periods over the last 5 minutes "
            f"(threshold {num(thresholds.cpu_throttling_percent)}%).",
        ),
    ]


def _disk_free_low(
    settings: StackInput, name: str, free_ratio: str, service: str, *, summary: str, what: str, guard: str = ""
) -> list[Rule]:
    """Warning and critical twins of a file system almost full, nodes' and volumes' alike.

    Its free share (`free_ratio`) below diskFreePercent, or below diskFreeCriticalPercent; `what` names
    the file system in the description; `guard` (a new line and an `and` clause) narrows the expression.
    """
    thresholds = settings.thresholds
    # The nearly full disk is news sooner: five minutes rather than a quarter of an hour.
    waits: dict[Severity, str] = {"warning": "15m", "critical": "5m"}

    def below(severity: Severity, percent: float) -> Alert:
        return Alert(
            name=name,
            expr=f"{free_ratio}\n< {num(percent / 100)}{guard}",
            for_=waits[severity],
            severity=severity,
            service=service,
            summary=summary,
            description=f"{what} has {{{{ $value | humanizePercentage }}}} free (threshold {num(percent)}%).",
        )

    return warning_and_critical(below, thresholds.disk_free_percent, thresholds.disk_free_critical_percent)


def _nodes(settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    available = sel("node_filesystem_avail_bytes", **_REAL_FS)
    size = sel("node_filesystem_size_bytes", **_REAL_FS)
    writable = f"and {sel('node_filesystem_readonly', **_REAL_FS)} == 0"
    free_ratio = f"{available} / {size}"
    rules: list[Rule] = [
        Alert(
            name="NodeMemoryHigh",
            expr=f"1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes\n"
            f"> {num(thresholds.memory_utilization_percent / 100)}",
            for_="15m",
            severity="warning",
            service=_NODE_SERVICE,
            summary="A node is running out of memory.",
            description="Node {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory "
            f"(threshold {num(thresholds.memory_utilization_percent)}%).",
        )
    ]
    rules += _disk_free_low(
        settings,
        "NodeDiskFreeLow",
        free_ratio,
        _NODE_SERVICE,
        summary="A node file system is almost full.",
        what="{{ $labels.mountpoint }} on node {{ $labels.instance }}",
        guard=f"\n{writable}",
    )

    # Predict only on disks already fairly full: an empty disk filling fast
    # during a restore is not news. The guards scale with diskFreePercent.
    predict_below_free_percent: dict[Severity, float] = {
        "warning": 4 * thresholds.disk_free_percent,
        "critical": 2 * thresholds.disk_free_percent,
    }

    def filling_within(severity: Severity, hours: int) -> Alert:
        return Alert(
            name="NodeDiskFillingUp",
            expr=f"predict_linear({available}[{dur('6h')}], {hours} * {secs(3600)}) < 0\n"
            f"and {free_ratio} < {num(min(predict_below_free_percent[severity], 99) / 100)}\n{writable}",
            # An hour of a 6-hour trend: the prediction has to hold, not flicker.
            for_="1h",
            severity=severity,
            service=_NODE_SERVICE,
            summary="A node file system will be full soon at the current rate.",
            description="{{ $labels.mountpoint }} on node {{ $labels.instance }} will be full within "
            f"{hours} hours at the rate of the last 6 hours.",
        )

    return rules + warning_and_critical(
        filling_within, thresholds.disk_fill_warning_hours, thresholds.disk_fill_critical_hours
    )


def _volumes(settings: StackInput) -> list[Rule]:
    namespaces = _namespaces(settings)
    available = sel("kubelet_volume_stats_available_bytes", namespace=namespaces)
    capacity = sel("kubelet_volume_stats_capacity_bytes", namespace=namespaces)
    return _disk_free_low(
        settings,
        "VolumeDiskFreeLow",
        f"{available}\n/ {capacity}",
        _VOLUME_SERVICE,
        summary="A persistent volume is almost full.",
        what="Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}",
    )


def resource_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    if settings.collection.discovery != "kubernetes":
        return ()
    return one_group_namespace(NAMESPACE, [*_containers(settings), *_nodes(settings), *_volumes(settings)])
