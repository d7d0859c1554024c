"""How many values each label takes: the label-value counts of the cardinality model.

`LABEL_VALUES` is the one table of these assumptions. A count is either a
fact of the contract or exporter (its source says which) or a guess about
this deployment (marked "assumed"), which a stack overrides with
`monitoring:cost.labelValues`. Counts are per scrape target unless the key
says otherwise: `node` is the number of EKS nodes, `pod`, `container` and
`pvc` count the whole cluster (kube-state-metrics reports all of them from
one target), and a shape label written `x/node` means "x on one node"
(cAdvisor and the kubelet are scraped once per node).

The table lives in the configuration layer because it is the default and
the vocabulary of a setting: `monitoring:cost.labelValues` may only name its
keys, and the cost model (`infra/cost/model.py`) starts from its counts.
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
    "daemonset": LabelValues(
        6, "assumed: DaemonSets in the cluster (aws-node, kube-proxy, EBS CSI node, node-exporter, log collector, ...)"
    ),
    "job_pod": LabelValues(10, "assumed: pods owned by Jobs kept at once (CronJob history limits; one series each)"),
}
