"""What the cardinality model assumes: how many values each label takes, and each metric's labels.

`LABEL_VALUES` is the one table of assumptions. A count is either a fact of
the contract or exporter (its source says which) or a guess about this
deployment (marked "assumed"), which a stack overrides with
`monitoring:cost.labelValues`. Counts are per scrape target unless the key
says otherwise: `node` is the number of EKS nodes, `pod`, `container` and
`pvc` count the whole cluster (kube-state-metrics reports all of them from
one target), and a shape label written `x/node` means "x on one node"
(cAdvisor and the kubelet are scraped once per node).

`METRIC_SHAPES` gives each scraped catalog metric its labels (keys of
`LABEL_VALUES`; labels that are constant per target, such as `service`,
`instance` or `pod`, do not multiply series) and, for histograms, the number
of bucket bounds without `+Inf`. Its sources are the backend contract
(`shared/seed/backend-metrics.md`) and each exporter's metric reference.

The model multiplies label-value counts: an upper bound, since not every
endpoint answers with every status code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelValues:
    count: int
    source: str


LABEL_VALUES: dict[str, LabelValues] = {
    # --- backend contract (shared/seed/backend-metrics.md) ---
    "method": LabelValues(4, "assumed: GET, POST, PUT, DELETE used by the REST API"),
    "endpoint": LabelValues(30, "assumed: FastAPI route templates of the backend (override per stack)"),
    "status_code": LabelValues(8, "assumed: 200, 201, 204, 400, 401, 404, 422, 500 seen per route"),
    "status_code_5xx": LabelValues(2, "assumed: 500 and 503 (http_errors_total counts 5xx only, per the contract)"),
    "db_operation": LabelValues(4, "assumed: select, insert, update, delete (contract label `operation`)"),
    "table": LabelValues(15, "assumed: tables the backend queries"),
    "error_type": LabelValues(3, "assumed: exception classes of db_query_errors_total"),
    "cache_operation": LabelValues(3, "contract: get, set, delete"),
    "cache_result": LabelValues(3, "contract: hit, miss, error"),
    "login_result": LabelValues(2, "contract: success, failure"),
    "template": LabelValues(5, "contract: custom, value, growth, momentum, ... (assumed 5)"),
    "portfolio_operation": LabelValues(3, "contract: create, update, delete"),
    "ws_direction": LabelValues(2, "contract: sent, received"),
    "message_type": LabelValues(5, "assumed: WebSocket message types"),
    "app_version": LabelValues(1, "contract: app_info has one version per pod (2 during a rollout)"),
    # --- postgres_exporter ---
    "database": LabelValues(4, "postgres_exporter: one series per database incl. postgres, template0, template1"),
    "pg_state": LabelValues(6, "postgres_exporter pg_stat_activity: one series per backend state per database"),
    "lock_mode": LabelValues(8, "postgres_exporter pg_locks: PostgreSQL's 8 table-lock modes per database"),
    # --- redis_exporter ---
    "redis_db": LabelValues(1, "redis_exporter redis_db_keys: one series per non-empty db (the app uses db 0)"),
    # --- celery-exporter ---
    "celery_worker": LabelValues(2, "assumed: celery worker hostnames (celery-exporter labels tasks by hostname)"),
    "celery_queue": LabelValues(1, "celery-exporter: per queue_name; the stack's collection.exporters.celery.queues"),
    "celery_task": LabelValues(20, "assumed: registered task names (celery-exporter label `name`)"),
    "celery_exception": LabelValues(3, "assumed: exception classes of failed tasks"),
    # --- statsd_exporter (Airflow) ---
    "dag_id": LabelValues(10, "assumed: DAGs in Airflow (the mapping moves dag_id into a label)"),
    "quantile": LabelValues(3, "statsd_exporter: summaries default to quantiles 0.5, 0.9, 0.99"),
    # --- cluster: node_exporter, kube-state-metrics, kubelet, cAdvisor ---
    "node": LabelValues(3, "assumed: EKS worker nodes (targets of node-exporter, kubelet, cAdvisor)"),
    "cpu": LabelValues(4, "assumed: vCPUs per node (node_cpu_seconds_total has one series per cpu and mode)"),
    "cpu_mode": LabelValues(8, "node_exporter on Linux: user, nice, system, idle, iowait, irq, softirq, steal"),
    "mountpoint": LabelValues(4, "assumed: filesystems per node after node_exporter's default fs-type exclusions"),
    "netdev": LabelValues(3, "assumed: network devices per node (eth0, eth1, lo; ENI count varies)"),
    "pod": LabelValues(40, "assumed: pods in the cluster"),
    "container": LabelValues(50, "assumed: containers in the cluster (sidecars included)"),
    "resource": LabelValues(2, "kube-state-metrics: cpu and memory requests/limits per container"),
    "pod_phase": LabelValues(5, "kube-state-metrics: one series per phase per pod (Pending ... Unknown)"),
    "deployment": LabelValues(15, "assumed: Deployments in the cluster"),
    "node_condition": LabelValues(15, "kube-state-metrics: 5 conditions x status true/false/unknown per node"),
    "pvc": LabelValues(5, "assumed: PersistentVolumeClaims in the cluster"),
    "condition_status": LabelValues(
        3, "kube-state-metrics: one series per status true/false/unknown (kube_pod_status_ready, kube_job_failed)"
    ),
    "waiting_container": LabelValues(5, "assumed: containers waiting at once (series exist only while waiting)"),
    "restarted_container": LabelValues(10, "assumed: containers with a last termination (restarted at least once)"),
    "deployment_condition": LabelValues(
        9, "kube-state-metrics: Available, Progressing, ReplicaFailure x status true/false/unknown"
    ),
    "statefulset": LabelValues(3, "assumed: StatefulSets in the cluster"),
    "failed_job": LabelValues(3, "assumed: failed Jobs kept (failedJobsHistoryLimit); 3 condition series each"),
    "cronjob": LabelValues(5, "assumed: CronJobs in the cluster"),
    "hpa": LabelValues(5, "assumed: HorizontalPodAutoscalers in the cluster"),
}


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
