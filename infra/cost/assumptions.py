"""What the cardinality model assumes about each metric: its labels, and the constants it counts with.

`METRIC_SHAPES` gives each scraped catalog metric its labels (keys of
`LABEL_VALUES`, the label-value counts in `infra/config/label_values.py`,
which a stack overrides with `monitoring:cost.labelValues`; labels that are
constant per target, such as `service`, `instance` or `pod`, do not multiply
series; a label written `x/node` means "x on one node", for the targets
scraped once per node) and, for histograms, the number of bucket bounds
without `+Inf`. Its sources are the backend contract
(`shared/seed/backend-metrics.md`) and each exporter's metric reference.

The model multiplies label-value counts: an upper bound, since not every
endpoint answers with every status code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricShape:
    labels: tuple[str, ...] = ()
    buckets: int | None = None  # histogram bucket bounds, +Inf excluded


_ = MetricShape
METRIC_SHAPES: dict[str, MetricShape] = {
    # backend contract
    "http_requests_total": _(("method", "endpoint", "status_code")),
    "http_request_duration_seconds": _(("method", "endpoint"), buckets=10),
    "http_requests_in_progress": _(("method", "endpoint")),
    "http_errors_total": _(("method", "endpoint", "status_code_5xx")),
    "db_query_duration_seconds": _(("db_operation", "table"), buckets=9),
    "db_connections_active": _(),
    "db_connections_idle": _(),
    "db_slow_queries_total": _(("db_operation", "table")),
    "db_query_errors_total": _(("db_operation", "error_type")),
    "cache_operations_total": _(("cache_operation", "cache_result")),
    "cache_hit_ratio": _(),
    "cache_operation_duration_seconds": _(("cache_operation",), buckets=6),
    "cache_memory_usage_bytes": _(),
    "user_registrations_total": _(),
    "user_logins_total": _(("login_result",)),
    "screening_requests_total": _(("template",)),
    "screening_results_count": _(buckets=7),
    "portfolio_operations_total": _(("portfolio_operation",)),
    "active_users_current": _(),
    "websocket_connections_active": _(),
    "websocket_messages_total": _(("ws_direction", "message_type")),
    "app_info": _(("app_version",)),
    # postgres_exporter
    "pg_up": _(),
    "pg_settings_max_connections": _(),
    "pg_stat_activity_count": _(("database", "pg_state")),
    "pg_stat_activity_max_tx_duration": _(("database", "pg_state")),
    "pg_stat_database_numbackends": _(("database",)),
    "pg_stat_database_xact_commit": _(("database",)),
    "pg_stat_database_xact_rollback": _(("database",)),
    "pg_stat_database_deadlocks": _(("database",)),
    "pg_stat_database_blks_hit": _(("database",)),
    "pg_stat_database_blks_read": _(("database",)),
    "pg_database_size_bytes": _(("database",)),
    "pg_replication_lag_seconds": _(),
    "pg_replication_is_replica": _(),
    "pg_locks_count": _(("database", "lock_mode")),
    # redis_exporter
    "redis_up": _(),
    "redis_memory_used_bytes": _(),
    "redis_memory_max_bytes": _(),
    "redis_evicted_keys_total": _(),
    "redis_expired_keys_total": _(),
    "redis_keyspace_hits_total": _(),
    "redis_keyspace_misses_total": _(),
    "redis_connected_clients": _(),
    "redis_rejected_connections_total": _(),
    "redis_commands_processed_total": _(),
    "redis_db_keys": _(("redis_db",)),
    # nginx-prometheus-exporter
    "nginx_up": _(),
    "nginx_connections_active": _(),
    "nginx_connections_accepted": _(),
    "nginx_connections_handled": _(),
    "nginx_connections_waiting": _(),
    "nginx_http_requests_total": _(),
    # celery-exporter (prometheus_client's 14 default bucket bounds unless --buckets is set)
    "celery_worker_up": _(("celery_worker",)),
    "celery_queue_length": _(("celery_queue",)),
    "celery_active_worker_count": _(("celery_queue",)),
    "celery_task_received_total": _(("celery_task", "celery_worker")),
    "celery_task_started_total": _(("celery_task", "celery_worker")),
    "celery_task_succeeded_total": _(("celery_task", "celery_worker")),
    "celery_task_failed_total": _(("celery_task", "celery_worker", "celery_exception")),
    "celery_task_retried_total": _(("celery_task", "celery_worker")),
    "celery_task_runtime": _(("celery_task", "celery_worker"), buckets=14),
    # statsd_exporter with the Airflow mapping
    "airflow_scheduler_heartbeat": _(),
    "airflow_dagrun_duration_failed": _(("dag_id",)),
    "airflow_dagrun_duration_success": _(("dag_id",)),
    "airflow_ti_failures": _(),
    "airflow_ti_successes": _(),
    "airflow_dag_processing_import_errors": _(),
    "airflow_executor_open_slots": _(),
    "airflow_executor_queued_tasks": _(),
    "airflow_executor_running_tasks": _(),
    # node_exporter (one target per node)
    "node_cpu_seconds_total": _(("cpu", "cpu_mode")),
    "node_memory_MemAvailable_bytes": _(),
    "node_memory_MemTotal_bytes": _(),
    "node_filesystem_avail_bytes": _(("mountpoint",)),
    "node_filesystem_size_bytes": _(("mountpoint",)),
    "node_filesystem_readonly": _(("mountpoint",)),
    "node_network_receive_bytes_total": _(("netdev",)),
    "node_network_transmit_bytes_total": _(("netdev",)),
    "node_load1": _(),
    # kube-state-metrics (one target, the whole cluster)
    "kube_pod_container_resource_limits": _(("container", "resource")),
    "kube_pod_container_resource_requests": _(("container", "resource")),
    "kube_pod_container_status_restarts_total": _(("container",)),
    "kube_pod_container_status_waiting_reason": _(("waiting_container",)),
    "kube_pod_container_status_last_terminated_reason": _(("restarted_container",)),
    "kube_pod_status_phase": _(("pod", "pod_phase")),
    "kube_pod_status_ready": _(("pod", "condition_status")),
    "kube_deployment_spec_replicas": _(("deployment",)),
    "kube_deployment_status_replicas_available": _(("deployment",)),
    "kube_deployment_status_replicas_updated": _(("deployment",)),
    "kube_deployment_status_observed_generation": _(("deployment",)),
    "kube_deployment_metadata_generation": _(("deployment",)),
    "kube_deployment_status_condition": _(("deployment", "deployment_condition")),
    "kube_statefulset_replicas": _(("statefulset",)),
    "kube_statefulset_status_replicas_ready": _(("statefulset",)),
    "kube_statefulset_status_replicas_updated": _(("statefulset",)),
    "kube_statefulset_status_observed_generation": _(("statefulset",)),
    "kube_statefulset_metadata_generation": _(("statefulset",)),
    "kube_job_failed": _(("failed_job", "condition_status")),
    "kube_cronjob_next_schedule_time": _(("cronjob",)),
    "kube_horizontalpodautoscaler_status_current_replicas": _(("hpa",)),
    "kube_horizontalpodautoscaler_spec_max_replicas": _(("hpa",)),
    "kube_horizontalpodautoscaler_spec_min_replicas": _(("hpa",)),
    "kube_node_status_condition": _(("node", "node_condition")),
    "kube_node_spec_unschedulable": _(("node",)),
    # kube_pod_owner is kept for Job-owned pods only (scrape_config.NARROWED_SERIES): one series each.
    "kube_pod_owner": _(("job_pod",)),
    "kube_daemonset_status_desired_number_scheduled": _(("daemonset",)),
    "kube_daemonset_status_current_number_scheduled": _(("daemonset",)),
    "kube_daemonset_status_number_misscheduled": _(("daemonset",)),
    "kube_daemonset_status_updated_number_scheduled": _(("daemonset",)),
    "kube_daemonset_status_number_available": _(("daemonset",)),
    # kubelet (one target per node)
    "kubelet_volume_stats_available_bytes": _(("pvc/node",)),
    "kubelet_volume_stats_capacity_bytes": _(("pvc/node",)),
    # cAdvisor (one target per node); network series are per pod
    "container_cpu_usage_seconds_total": _(("container/node",)),
    "container_cpu_cfs_periods_total": _(("container/node",)),
    "container_cpu_cfs_throttled_periods_total": _(("container/node",)),
    "container_memory_working_set_bytes": _(("container/node",)),
    "container_spec_memory_limit_bytes": _(("container/node",)),
    "container_network_receive_bytes_total": _(("pod/node",)),
    "container_network_transmit_bytes_total": _(("pod/node",)),
    "container_fs_usage_bytes": _(("container/node",)),
    "container_fs_limit_bytes": _(("container/node",)),
    # the in-cluster collector's own remote-write metrics (one remote_write queue)
    "prometheus_remote_storage_samples_failed_total": _(),
    "prometheus_remote_storage_samples_pending": _(),
    "prometheus_remote_storage_highest_timestamp_in_seconds": _(),
    "prometheus_remote_storage_queue_highest_sent_timestamp_seconds": _(),
    "prometheus_rule_evaluation_failures_total": _(),
}

# Prometheus adds these to every target ("Jobs and instances" in the Prometheus docs);
# the AMP managed scraper does too.
PER_TARGET_SERIES: tuple[str, ...] = (
    "up",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_duration_seconds",
    "scrape_series_added",
)

# Grafana's default "max data points" of a panel is about its width in pixels.
PANEL_MAX_DATA_POINTS = 1000
# AWS bills by the month of 730 hours.
HOURS_PER_MONTH = 730
