"""System health: CPU, memory, disk and network per service (container), pod and node."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.prometheus import Dataquery

from dashboards.common import ENV, RATE, Rows, above, below, dashboard, query, service_variable, stat, timeseries
from dashboards.context import DashboardContext

SLUG = "system"
TITLE = "System health"
DESCRIPTION = "Resources of every service (container), pod and node on the EKS cluster."

# Kubernetes names a service's container after it; "" and POD are the pod's sandbox.
CONTAINER = f'{ENV}, container=~"$service", container!~"|POD"'
# Network counters exist per pod only (the sandbox owns the interface).
POD = f'{ENV}, pod=~"${{service}}-.*"'
# node_exporter reports pseudo file systems too; they are never "full" in a useful sense.
REAL_FS = f'{ENV}, fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs", mountpoint!=""'
# A node's own interfaces: not loopback, nor the pods' virtual ones (veth, and eni of the VPC CNI).
NODE_INTERFACES = f'{ENV}, device!~"lo|veth.*|eni.*"'
BY_CONTAINER = "by (namespace, pod, container)"


def received_and_sent(counters: str, selector: str, *, by: str) -> list[Dataquery]:
    """Bytes per second received ("in") and sent ("out") by each `by`, from `<counters>_receive_bytes_total`
    and `<counters>_transmit_bytes_total`."""
    return [
        query(
            f"sum by ({by}) (rate({counters}_{direction}_bytes_total{{{selector}}}[{RATE}]))",
            f"{{{{{by}}}}} {legend}",
        )
        for direction, legend in (("receive", "in"), ("transmit", "out"))
    ]


def build(ctx: DashboardContext) -> dict[str, Any]:
    t = ctx.thresholds
    memory_ceiling = t.memory_utilization_percent / 100
    throttling_ceiling = t.cpu_throttling_percent / 100
    disk_warning, disk_critical = t.disk_free_percent / 100, t.disk_free_critical_percent / 100
    memory_ratio = (
        f"max {BY_CONTAINER} (container_memory_working_set_bytes{{{CONTAINER}}})\n"
        f"/ on (namespace, pod, container)\n"
        f'max {BY_CONTAINER} (kube_pod_container_resource_limits{{{ENV}, container=~"$service", resource="memory"}})'
    )
    service = service_variable("container_cpu_usage_seconds_total", (), label="container")
    rows: Rows = {
        "Overview": [
            stat(
                "Scrape targets down",
                "Targets whose last scrape failed; anything but 0 means a blind spot in every other panel.",
                "short",
                query(f"count(up{{{ENV}}} == 0) or vector(0)", instant=True),
                thresholds=above(None, 1),
                decimals=0,
            ),
            stat(
                "Pods not running",
                "Pods in phase Pending, Failed or Unknown.",
                "short",
                query(
                    f'sum(kube_pod_status_phase{{{ENV}, phase=~"Pending|Failed|Unknown"}}) or vector(0)',
                    instant=True,
                ),
                thresholds=above(None, 1),
                decimals=0,
            ),
            stat(
                "Container restarts (1 h)",
                "Container restarts across the selected services in the last hour.",
                "short",
                query(
                    f'sum(increase(kube_pod_container_status_restarts_total{{{ENV}, container=~"$service"}}[1h]))',
                    instant=True,
                ),
                thresholds=above(1, 5),
                decimals=0,
            ),
            stat(
                "Lowest node disk free",
                f"Free space on the fullest real file system of any node; warns below {t.disk_free_percent:g} %, "
                f"pages below {t.disk_free_critical_percent:g} %.",
                "percentunit",
                query(
                    f"min(node_filesystem_avail_bytes{{{REAL_FS}}} / node_filesystem_size_bytes{{{REAL_FS}}})",
                    instant=True,
                ),
                thresholds=below(disk_critical, disk_warning),
            ),
        ],
        "Per service (container)": [
            timeseries(
                "CPU by service",
                "CPU cores used, summed over each service's containers.",
                "short",
                query(
                    f"sum by (container) (rate(container_cpu_usage_seconds_total{{{CONTAINER}}}[{RATE}]))",
                    "{{container}}",
                ),
                min_value=0,
            ),
            timeseries(
                "CPU throttling by service",
                f"Share of CFS periods in which the container was throttled by its CPU limit; dashed line at the "
                f"{t.cpu_throttling_percent:g} % alert.",
                "percentunit",
                query(
                    f"max by (container) (\n"
                    f"  sum {BY_CONTAINER} (rate(container_cpu_cfs_throttled_periods_total{{{CONTAINER}}}[{RATE}]))\n"
                    f"  / on (namespace, pod, container)\n"
                    f"  sum {BY_CONTAINER} (rate(container_cpu_cfs_periods_total{{{CONTAINER}}}[{RATE}]))\n"
                    f")",
                    "{{container}}",
                ),
                thresholds=above(None, throttling_ceiling),
                min_value=0,
            ),
            timeseries(
                "Memory of limit by service",
                f"Working set over the memory limit of the busiest pod of each service; dashed line at the "
                f"{t.memory_utilization_percent:g} % alert.",
                "percentunit",
                query(f"max by (container) (\n{memory_ratio}\n)", "{{container}}"),
                thresholds=above(None, memory_ceiling),
                min_value=0,
            ),
            timeseries(
                "Memory by service",
                "Working set (memory the kernel will not reclaim), summed over each service's containers.",
                "bytes",
                query(f"sum by (container) (container_memory_working_set_bytes{{{CONTAINER}}})", "{{container}}"),
                min_value=0,
            ),
        ],
        "Per pod": [
            timeseries(
                "CPU by pod",
                "CPU cores used by each pod of the selected services.",
                "short",
                query(
                    f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{CONTAINER}}}[{RATE}]))",
                    "{{pod}}",
                ),
                min_value=0,
            ),
            timeseries(
                "Memory by pod",
                "Working set of each pod of the selected services.",
                "bytes",
                query(f"sum by (pod) (container_memory_working_set_bytes{{{CONTAINER}}})", "{{pod}}"),
                min_value=0,
            ),
            timeseries(
                "Network by pod",
                "Bytes received and sent per second by each pod of the selected services.",
                "Bps",
                *received_and_sent("container_network", POD, by="pod"),
                min_value=0,
            ),
            timeseries(
                "Volume free space",
                f"Free share of each persistent volume claim; warns below {t.disk_free_percent:g} %.",
                "percentunit",
                query(
                    f"min by (persistentvolumeclaim) (kubelet_volume_stats_available_bytes{{{ENV}}} "
                    f"/ kubelet_volume_stats_capacity_bytes{{{ENV}}})",
                    "{{persistentvolumeclaim}}",
                ),
                thresholds=below(disk_critical, disk_warning),
                min_value=0,
                max_value=1,
            ),
        ],
        "Per node": [
            timeseries(
                "Node CPU",
                "Busy share of each node's CPUs.",
                "percentunit",
                query(
                    f'1 - avg by (instance) (rate(node_cpu_seconds_total{{{ENV}, mode="idle"}}[{RATE}]))',
                    "{{instance}}",
                ),
                min_value=0,
                max_value=1,
            ),
            timeseries(
                "Node memory",
                f"Used share of each node's memory; dashed line at the {t.memory_utilization_percent:g} % alert.",
                "percentunit",
                query(
                    f"1 - node_memory_MemAvailable_bytes{{{ENV}}} / node_memory_MemTotal_bytes{{{ENV}}}",
                    "{{instance}}",
                ),
                thresholds=above(None, memory_ceiling),
                min_value=0,
                max_value=1,
            ),
            timeseries(
                "Node disk free",
                f"Free share of each node's fullest real file system; warns below {t.disk_free_percent:g} %, "
                f"pages below {t.disk_free_critical_percent:g} %.",
                "percentunit",
                query(
                    f"min by (instance) (node_filesystem_avail_bytes{{{REAL_FS}}} "
                    f"/ node_filesystem_size_bytes{{{REAL_FS}}})",
                    "{{instance}}",
                ),
                thresholds=below(disk_critical, disk_warning),
                min_value=0,
                max_value=1,
            ),
            timeseries(
                "Node network",
                "Bytes received and sent per second by each node (physical interfaces only).",
                "Bps",
                *received_and_sent("node_network", NODE_INTERFACES, by="instance"),
                min_value=0,
            ),
        ],
        "Workloads and scrapes": [
            timeseries(
                "Deployments: available of desired replicas",
                "Available replicas over desired replicas per deployment; below 1 means a rollout is stuck or "
                "pods crash.",
                "percentunit",
                query(
                    # A deployment scaled to zero has nothing to be short of.
                    f"kube_deployment_status_replicas_available{{{ENV}}}"
                    f" / (kube_deployment_spec_replicas{{{ENV}}} > 0)",
                    "{{namespace}}/{{deployment}}",
                ),
                thresholds=below(1),
                min_value=0,
            ),
            timeseries(
                "Scrape targets up by service",
                "Targets scraped successfully per service; a drop means that service's panels go blank.",
                "short",
                query(f"sum by (service) (up{{{ENV}}})", "{{service}}"),
                min_value=0,
            ),
        ],
    }
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
