"""The metric catalog: every series name a rule, dashboard or scrape config may rely on.

One list, three uses: the collector keeps exactly these names (everything
else is dropped at scrape time to save AMP ingestion), tests check that every
PromQL expression in rules and dashboards names only these, and the
catalog documents where each name comes from. Names follow the backend
contract (`shared/seed/backend-metrics.md`) and each exporter's published
names; our own recording rules register theirs with `register_recorded`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["counter", "gauge", "histogram", "summary", "info"]


@dataclass(frozen=True)
class Metric:
    name: str
    type: MetricType
    source: str
    help: str = ""

    @property
    def series_names(self) -> tuple[str, ...]:
        """The names that actually appear on the wire (histograms and summaries expand)."""
        if self.type == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        if self.type == "summary":
            return (self.name, f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


def _metrics(source: str, *entries: tuple[str, MetricType, str]) -> tuple[Metric, ...]:
    return tuple(Metric(name, kind, source, help_text) for name, kind, help_text in entries)


BACKEND = _metrics(
    "application",
    ("http_requests_total", "counter", "every request by method, endpoint, status_code"),
    ("http_request_duration_seconds", "histogram", "request latency by method, endpoint"),
    ("http_requests_in_progress", "gauge", "requests being served"),
    ("http_errors_total", "counter", "5xx responses only"),
    ("db_query_duration_seconds", "histogram", "query latency by operation, table"),
    ("db_connections_active", "gauge", "connections checked out of the pool"),
    ("db_connections_idle", "gauge", "connections idle in the pool"),
    ("db_slow_queries_total", "counter", "queries slower than 1 s"),
    ("db_query_errors_total", "counter", "query errors by operation, error_type"),
    ("cache_operations_total", "counter", "cache operations by operation, result"),
    ("cache_hit_ratio", "gauge", "0-1, computed in-process"),
    ("cache_operation_duration_seconds", "histogram", "cache latency by operation"),
    ("cache_memory_usage_bytes", "gauge", "Redis memory as the app sees it"),
    ("user_registrations_total", "counter", ""),
    ("user_logins_total", "counter", "by result"),
    ("screening_requests_total", "counter", "by template"),
    ("screening_results_count", "histogram", "stocks returned per screening"),
    ("portfolio_operations_total", "counter", "by operation"),
    ("active_users_current", "gauge", "users connected over WebSocket"),
    ("websocket_connections_active", "gauge", ""),
    ("websocket_messages_total", "counter", "by direction, message_type"),
    ("app_info", "gauge", "name, version, environment"),
)

POSTGRES_EXPORTER = _metrics(
    "postgres_exporter",
    ("pg_up", "gauge", "1 if the exporter reaches PostgreSQL"),
    ("pg_settings_max_connections", "gauge", "server max_connections"),
    ("pg_stat_activity_count", "gauge", "backends by datname, state"),
    ("pg_stat_activity_max_tx_duration", "gauge", "longest running transaction"),
    ("pg_stat_database_numbackends", "gauge", "backends per database"),
    ("pg_stat_database_xact_commit", "counter", ""),
    ("pg_stat_database_xact_rollback", "counter", ""),
    ("pg_stat_database_deadlocks", "counter", "deadlocks per database"),
    ("pg_stat_database_blks_hit", "counter", ""),
    ("pg_stat_database_blks_read", "counter", ""),
    ("pg_database_size_bytes", "gauge", "size per database"),
    ("pg_replication_lag_seconds", "gauge", "replica lag behind the primary"),
    ("pg_replication_is_replica", "gauge", "1 on a replica"),
    ("pg_locks_count", "gauge", "locks by mode"),
)

REDIS_EXPORTER = _metrics(
    "redis_exporter",
    ("redis_up", "gauge", "1 if the exporter reaches Redis"),
    ("redis_memory_used_bytes", "gauge", ""),
    ("redis_memory_max_bytes", "gauge", "maxmemory; 0 when unlimited"),
    ("redis_evicted_keys_total", "counter", ""),
    ("redis_expired_keys_total", "counter", ""),
    ("redis_keyspace_hits_total", "counter", ""),
    ("redis_keyspace_misses_total", "counter", ""),
    ("redis_connected_clients", "gauge", ""),
    ("redis_rejected_connections_total", "counter", ""),
    ("redis_commands_processed_total", "counter", ""),
    ("redis_db_keys", "gauge", "keys per db"),
)

NGINX_EXPORTER = _metrics(
    "nginx-prometheus-exporter",
    ("nginx_up", "gauge", "1 if the exporter reaches stub_status"),
    ("nginx_connections_active", "gauge", ""),
    ("nginx_connections_accepted", "counter", ""),
    ("nginx_connections_handled", "counter", ""),
    ("nginx_connections_waiting", "gauge", ""),
    ("nginx_http_requests_total", "counter", ""),
)

CELERY_EXPORTER = _metrics(
    "celery-exporter",
    ("celery_worker_up", "gauge", "1 per live worker (hostname)"),
    ("celery_queue_length", "gauge", "messages waiting per queue_name"),
    ("celery_active_worker_count", "gauge", "workers consuming per queue_name"),
    ("celery_task_received_total", "counter", "by name"),
    ("celery_task_started_total", "counter", "by name"),
    ("celery_task_succeeded_total", "counter", "by name"),
    ("celery_task_failed_total", "counter", "by name, exception"),
    ("celery_task_retried_total", "counter", "by name"),
    ("celery_task_runtime", "histogram", "task runtime by name"),
)

# Airflow emits StatsD; statsd_exporter turns it into these names with the
# mapping that the collection component ships (dag_id becomes a label).
AIRFLOW_STATSD = _metrics(
    "statsd_exporter (airflow)",
    ("airflow_scheduler_heartbeat", "counter", "incremented by each scheduler loop"),
    ("airflow_dagrun_duration_failed", "summary", "failed DAG runs by dag_id"),
    ("airflow_dagrun_duration_success", "summary", "successful DAG runs by dag_id"),
    ("airflow_ti_failures", "counter", "failed task instances"),
    ("airflow_ti_successes", "counter", "successful task instances"),
    ("airflow_dag_processing_import_errors", "gauge", "DAG files that fail to import"),
    ("airflow_executor_open_slots", "gauge", ""),
    ("airflow_executor_queued_tasks", "gauge", ""),
    ("airflow_executor_running_tasks", "gauge", ""),
)

NODE_EXPORTER = _metrics(
    "node_exporter",
    ("node_cpu_seconds_total", "counter", "by cpu, mode"),
    ("node_memory_MemAvailable_bytes", "gauge", ""),
    ("node_memory_MemTotal_bytes", "gauge", ""),
    ("node_filesystem_avail_bytes", "gauge", "by device, fstype, mountpoint"),
    ("node_filesystem_size_bytes", "gauge", ""),
    ("node_filesystem_readonly", "gauge", ""),
    ("node_network_receive_bytes_total", "counter", "by device"),
    ("node_network_transmit_bytes_total", "counter", "by device"),
    ("node_load1", "gauge", ""),
)

# Names and labels as kube-state-metrics v2.20.0 documents them (docs/metrics/workload/*.md,
# docs/metrics/cluster/node-metrics.md): the appVersion of the pinned chart 8.4.0. Against v2.15.0
# (chart 5.33.0) the only change to these is the `reason` label on kube_deployment_status_condition
# (v2.16.0); tests/alerting/test_kubernetes_rules.py holds the label table.
KUBE_STATE_METRICS = _metrics(
    "kube-state-metrics",
    ("kube_pod_container_resource_limits", "gauge", "by resource, unit"),
    ("kube_pod_container_resource_requests", "gauge", "by resource, unit"),
    ("kube_pod_container_status_restarts_total", "counter", "by namespace, pod, container"),
    ("kube_pod_container_status_waiting_reason", "gauge", "1 per waiting container, by reason (only while waiting)"),
    (
        "kube_pod_container_status_last_terminated_reason",
        "gauge",
        "1 per container that terminated before, by reason (stays until the next termination)",
    ),
    ("kube_pod_status_phase", "gauge", "by phase"),
    ("kube_pod_status_ready", "gauge", "by condition true/false/unknown"),
    ("kube_deployment_spec_replicas", "gauge", ""),
    ("kube_deployment_status_replicas_available", "gauge", ""),
    ("kube_deployment_status_replicas_updated", "gauge", ""),
    ("kube_deployment_status_observed_generation", "gauge", ""),
    ("kube_deployment_metadata_generation", "gauge", ""),
    ("kube_deployment_status_condition", "gauge", "by condition, status"),
    ("kube_statefulset_replicas", "gauge", "desired replicas"),
    ("kube_statefulset_status_replicas_ready", "gauge", ""),
    ("kube_statefulset_status_replicas_updated", "gauge", ""),
    ("kube_statefulset_status_observed_generation", "gauge", ""),
    ("kube_statefulset_metadata_generation", "gauge", ""),
    ("kube_job_failed", "gauge", "by condition; only once the Job has a Failed condition"),
    ("kube_cronjob_next_schedule_time", "gauge", "unix time; not reported while the CronJob is suspended"),
    ("kube_horizontalpodautoscaler_status_current_replicas", "gauge", ""),
    ("kube_horizontalpodautoscaler_spec_max_replicas", "gauge", ""),
    ("kube_horizontalpodautoscaler_spec_min_replicas", "gauge", ""),
    ("kube_node_status_condition", "gauge", "by condition, status"),
    ("kube_node_spec_unschedulable", "gauge", "1 while the node is cordoned (drains, scale-down)"),
    (
        "kube_pod_owner",
        "gauge",
        'kept for owner_kind="Job" only (the scrape job drops the rest): pods KubePodNotReady leaves out',
    ),
    ("kube_daemonset_status_desired_number_scheduled", "gauge", "nodes that should run the DaemonSet's pod"),
    ("kube_daemonset_status_current_number_scheduled", "gauge", "nodes running at least one of its pods"),
    ("kube_daemonset_status_number_misscheduled", "gauge", "nodes running its pod that should not"),
    ("kube_daemonset_status_updated_number_scheduled", "gauge", "nodes running the current pod template"),
    ("kube_daemonset_status_number_available", "gauge", "nodes whose pod is available"),
)

KUBELET = _metrics(
    "kubelet",
    ("kubelet_volume_stats_available_bytes", "gauge", "free bytes per PVC"),
    ("kubelet_volume_stats_capacity_bytes", "gauge", "size per PVC"),
)

CADVISOR = _metrics(
    "cadvisor",
    ("container_cpu_usage_seconds_total", "counter", ""),
    ("container_cpu_cfs_periods_total", "counter", ""),
    ("container_cpu_cfs_throttled_periods_total", "counter", ""),
    ("container_memory_working_set_bytes", "gauge", ""),
    ("container_spec_memory_limit_bytes", "gauge", ""),
    ("container_network_receive_bytes_total", "counter", ""),
    ("container_network_transmit_bytes_total", "counter", ""),
    ("container_fs_usage_bytes", "gauge", ""),
    ("container_fs_limit_bytes", "gauge", ""),
)

# Series every Prometheus-compatible scraper adds, and the collector's own.
SCRAPE = _metrics(
    "scrape",
    ("up", "gauge", "1 if the last scrape succeeded"),
    ("scrape_samples_scraped", "gauge", ""),
    ("scrape_samples_post_metric_relabeling", "gauge", ""),
    ("scrape_duration_seconds", "gauge", ""),
    ("scrape_series_added", "gauge", ""),
)
COLLECTOR = _metrics(
    "collector (prometheus agent)",
    ("prometheus_remote_storage_samples_failed_total", "counter", ""),
    ("prometheus_remote_storage_samples_pending", "gauge", ""),
    ("prometheus_remote_storage_highest_timestamp_in_seconds", "gauge", ""),
    ("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "gauge", ""),
    ("prometheus_rule_evaluation_failures_total", "counter", "self-hosted and local Prometheus only"),
)
# Built into the rule engine (AMP and Prometheus alike).
RULE_ENGINE = _metrics(
    "rule engine",
    ("ALERTS", "gauge", "one series per pending/firing alert"),
    ("ALERTS_FOR_STATE", "gauge", ""),
)
# Grafana Synthetic Monitoring writes these to the Grafana Cloud Prometheus, not to AMP.
SYNTHETIC_MONITORING = _metrics(
    "synthetic-monitoring",
    ("probe_success", "gauge", "1 when a check passed, per probe"),
    ("probe_duration_seconds", "gauge", ""),
    ("probe_http_duration_seconds", "gauge", "by phase"),
    ("probe_http_status_code", "gauge", ""),
    ("probe_ssl_earliest_cert_expiry", "gauge", "unix time of the first certificate to expire"),
    ("sm_check_info", "gauge", "check metadata"),
)

SCRAPED_BY_SOURCE: dict[str, tuple[Metric, ...]] = {
    "application": BACKEND,
    "postgres_exporter": POSTGRES_EXPORTER,
    "redis_exporter": REDIS_EXPORTER,
    "nginx-prometheus-exporter": NGINX_EXPORTER,
    "celery-exporter": CELERY_EXPORTER,
    "statsd_exporter": AIRFLOW_STATSD,
    "node_exporter": NODE_EXPORTER,
    "kube-state-metrics": KUBE_STATE_METRICS,
    "kubelet": KUBELET,
    "cadvisor": CADVISOR,
    "collector": COLLECTOR,
}

CATALOG: tuple[Metric, ...] = (
    *(metric for metrics in SCRAPED_BY_SOURCE.values() for metric in metrics),
    *SCRAPE,
    *RULE_ENGINE,
    *SYNTHETIC_MONITORING,
)


def scraped_series_names(source: str) -> frozenset[str]:
    """Series names a scrape of `source` must keep (the collector drops the rest)."""
    return frozenset(name for metric in SCRAPED_BY_SOURCE[source] for name in metric.series_names)


def known_series_names() -> frozenset[str]:
    """Every raw series name a query may use (recording rules add their own names)."""
    return frozenset(name for metric in CATALOG for name in metric.series_names)
