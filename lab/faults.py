"""Named faults: what each one does to the simulated platform and which alert it must raise.

`apply_faults(names)` turns the healthy `Conditions` into the broken ones;
several faults can be active at once (the lab runs independent families
side by side). Each fault names the alerts it must page with (alert name,
severity, service label) and the alerts that fire in Prometheus too but must
be held back by Alertmanager's inhibition rules. The `lane` groups faults
that touch the same service: faults of one lane run one step after another,
lanes run concurrently (see `lab/scenario.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lab.simulator import AIRFLOW_DAGS, CRONJOBS, DAEMONSETS, DEPLOYMENTS, JOBS, PODS, Conditions


@dataclass(frozen=True)
class Expected:
    alert: str
    severity: str
    service: str


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    apply: Callable[[Conditions], None]
    expect: tuple[Expected, ...]
    # Firing in Prometheus at the same time, but inhibited: never notified.
    held_back: tuple[Expected, ...] = ()
    # Alerts of one group expected in one notification (grouping).
    grouped: int = 1
    # The rule window that must pass before the fault can show (a rate that
    # must fall to zero): part of the minimum the configuration allows.
    window: str | None = None


def _set(**changes: object) -> Callable[[Conditions], None]:
    def apply(conditions: Conditions) -> None:
        for name, value in changes.items():
            if not hasattr(conditions, name):
                raise AttributeError(f"Conditions has no {name}")
            setattr(conditions, name, value)

    return apply


def _down(target: str) -> Callable[[Conditions], None]:
    return lambda conditions: conditions.down.add(target)


def _queues(**lengths: float) -> Callable[[Conditions], None]:
    return lambda conditions: conditions.celery_queue_lengths.update(lengths)


def _workers_down(conditions: Conditions) -> None:
    # Nobody consumes: the queues pile up, which the page holds back.
    conditions.celery_workers_up = False
    conditions.celery_queue_lengths.update(celery=400.0)


def _container(field: str, container: str, share: float) -> Callable[[Conditions], None]:
    return lambda conditions: getattr(conditions, field).update({container: share})


def E(alert: str, severity: str, service: str) -> Expected:  # noqa: N802 - a table constructor
    return Expected(alert, severity, service)


FAULT_LIST: tuple[Fault, ...] = (
    Fault(
        "errors",
        "half the API requests fail with a 5xx status",
        _set(error_share=0.5),
        (E("ApiHighErrorRate", "critical", "api"), E("ApiAvailabilityBudgetBurn", "critical", "api")),
        held_back=(E("ApiHighErrorRate", "warning", "api"),),
    ),
    Fault(
        "latency",
        "most API requests take seconds (p95 above 2 s)",
        _set(latency_median=3.0),
        (E("ApiHighLatency", "critical", "api"), E("ApiLatencyBudgetBurn", "critical", "api")),
        held_back=(E("ApiHighLatency", "warning", "api"),),
    ),
    Fault("health", "/health answers 503", _set(health_failing=True), (E("ApiHealthCheckFailing", "warning", "api"),)),
    Fault(
        "db-pool",
        "95% of the API's pooled DB connections checked out",
        _set(pool_busy_share=0.95),
        (E("DatabasePoolExhausted", "warning", "api"),),
    ),
    Fault(
        "slow-queries",
        "the API runs a slow (>1 s) query every 2 s",
        _set(slow_queries_per_second=0.5),
        (E("DatabaseSlowQueries", "warning", "api"),),
    ),
    Fault(
        "db-errors",
        "20% of the API's queries fail",
        _set(db_error_share=0.2),
        (E("DatabaseQueryErrors", "warning", "api"),),
    ),
    Fault(
        "cache-misses",
        "only a fifth of the cache reads hit",
        _set(cache_hit_share=0.2),
        (E("CacheHitRatioLow", "warning", "api"),),
    ),
    Fault(
        "screening-drop",
        "nobody runs a screening",
        _set(screening_per_second=0.0),
        (E("ScreeningRequestsStalled", "warning", "api"),),
    ),
    Fault("replica-down", "one of the two API pods is gone", _down("api/1"), (E("ServiceDown", "warning", "api"),)),
    Fault(
        "down",
        "the API is gone (every target)",
        _down("api"),
        (E("ServiceDown", "critical", "api"),),
        held_back=(E("ServiceDown", "warning", "api"),),
    ),
    Fault(
        "db-down",
        "postgres_exporter cannot reach PostgreSQL",
        _set(postgres_up=False),
        (E("PostgresDown", "critical", "postgres"),),
    ),
    Fault(
        "db-connections",
        "97 of PostgreSQL's 100 connections in use",
        _set(postgres_backends=97),
        (E("PostgresConnectionsSaturated", "critical", "postgres"),),
        held_back=(E("PostgresConnectionsSaturated", "warning", "postgres"),),
    ),
    Fault(
        "replication-lag",
        "a replica is two minutes behind",
        _set(replication_lag_seconds=120.0),
        (E("PostgresReplicationLag", "warning", "postgres"),),
    ),
    Fault(
        "deadlocks",
        "a deadlock storm: 40 per second",
        _set(deadlocks_per_second=40.0),
        (E("PostgresDeadlocks", "warning", "postgres"),),
    ),
    Fault(
        "redis-down", "redis_exporter cannot reach Redis", _set(redis_up=False), (E("RedisDown", "critical", "redis"),)
    ),
    Fault(
        "redis-memory",
        "Redis at 95% of maxmemory",
        _set(redis_memory_share=0.95),
        (E("RedisMemoryNearMax", "warning", "redis"),),
    ),
    Fault(
        "redis-evictions",
        "Redis evicts 50 keys/s",
        _set(evictions_per_second=50.0),
        (E("RedisEvictions", "warning", "redis"),),
    ),
    Fault(
        "nginx-down",
        "nginx-prometheus-exporter cannot read stub_status",
        _set(nginx_up=False),
        (E("NginxDown", "critical", "nginx"),),
    ),
    Fault(
        "celery-workers-down",
        "every Celery worker is dead and the queue piles up",
        _workers_down,
        (E("CeleryWorkersDown", "critical", "celery"),),
        held_back=(E("CeleryQueueBacklog", "warning", "celery"),),
    ),
    Fault(
        "celery-queue",
        "two Celery queues back up",
        _queues(celery=250.0, screening=180.0),
        (E("CeleryQueueBacklog", "warning", "celery"),),
        grouped=2,
    ),
    Fault(
        "celery-failures",
        "half the Celery tasks fail",
        _set(celery_failure_share=0.5),
        (E("CeleryTaskFailureRate", "warning", "celery"),),
    ),
    Fault(
        "airflow-scheduler",
        "the Airflow scheduler stops heart-beating",
        _set(airflow_heartbeat=False),
        (E("AirflowSchedulerHeartbeatMissing", "critical", "airflow"),),
        window="5m",
    ),
    Fault(
        "airflow-failures",
        f"DAG {AIRFLOW_DAGS[0]} fails its runs",
        _set(airflow_failed_dags=(AIRFLOW_DAGS[0],)),
        (E("AirflowDagRunFailed", "warning", "airflow"),),
    ),
    Fault(
        "airflow-import-errors",
        "two DAG files fail to import",
        _set(airflow_import_errors=2),
        (E("AirflowDagImportErrors", "warning", "airflow"),),
    ),
    Fault(
        "disk",
        "the root file system of a node is 97% full",
        _set(root_free_share=0.03),
        (E("NodeDiskFreeLow", "critical", "node"),),
        held_back=(E("NodeDiskFreeLow", "warning", "node"),),
    ),
    Fault(
        "disk-filling",
        "a node's data disk fills up fast",
        _set(data_fill_share_per_second=0.0005),
        (E("NodeDiskFillingUp", "warning", "node"),),
    ),
    Fault(
        "memory",
        "a node uses 92% of its memory",
        _set(node_memory_used_share=0.92),
        (E("NodeMemoryHigh", "warning", "node"),),
    ),
    # The collector agent's pod (prometheus-agent-0) matches no workload prefix: its namespace, `monitoring`,
    # is its service, which no lane's critical alert inhibits (the Celery and Airflow pods' services have).
    Fault(
        "container-memory",
        "the collector agent's container at 90% of its memory limit",
        _container("container_memory_share", "prometheus", 0.9),
        (E("ContainerMemoryNearLimit", "warning", "monitoring"),),
    ),
    Fault(
        "cpu",
        "the collector agent's container throttled in 90% of its CPU periods",
        _container("container_throttled_share", "prometheus", 0.9),
        (E("ContainerCpuThrottled", "warning", "monitoring"),),
    ),
    Fault(
        "volume",
        "the PostgreSQL volume is 98% full",
        _set(volume_free_share=0.02),
        (E("VolumeDiskFreeLow", "critical", "storage"),),
        held_back=(E("VolumeDiskFreeLow", "warning", "storage"),),
    ),
)
FAULT_LIST += (
    Fault(
        "collector-behind",
        "the collector's remote write is 30 s behind",
        _set(remote_write_lag_seconds=30.0),
        (E("CollectorRemoteWriteBehind", "warning", "collector"),),
    ),
    Fault(
        "collector-failing",
        "the collector fails to write 50 samples/s",
        _set(remote_write_failures_per_second=50.0),
        (E("CollectorRemoteWriteFailing", "warning", "collector"),),
    ),
)

# Kubernetes objects. The frontend's workloads carry `service: frontend`, which no other lane
# uses: their faults cannot inhibit, or be inhibited by, another lane's.
_FRONTEND_PODS = tuple(pod for _, pod, container, _ in PODS if container == "frontend")
_FRONTEND_REPLICAS = next(count for _, name, count in DEPLOYMENTS if name == "frontend")
_AIRFLOW_JOB = next(job for namespace, job in JOBS if namespace == "airflow")
_AIRFLOW_CRONJOB = next(cronjob for namespace, cronjob in CRONJOBS if namespace == "airflow")
_NODE_EXPORTER = next(name for namespace, name in DAEMONSETS if namespace == "monitoring")
_NODE_AGENT = next(name for namespace, name in DAEMONSETS if namespace == "screener")


def _add(field: str, *members: object) -> Callable[[Conditions], None]:
    return lambda conditions: getattr(conditions, field).update(members)


def _cordoned_dead(conditions: Conditions) -> None:
    # Someone cordoned node 0 (to drain it), and then it died instead of being replaced. Not node 1, whose
    # KubeNodeNotReady the lane's step before (node-not-ready) raised: a fresh alert, not the same one again.
    conditions.cordoned_nodes.add(0)
    conditions.not_ready_nodes.add(0)


def _frontend_down(conditions: Conditions) -> None:
    # No replica left: its pods are not Ready either; that warning is held back by the page.
    conditions.available_replicas["frontend"] = 0
    conditions.not_ready_pods.update(_FRONTEND_PODS)


FAULT_LIST += (
    Fault(
        "crash-loop",
        "a frontend container waits in CrashLoopBackOff, restarting every 5 minutes",
        _add("crash_looping_pods", _FRONTEND_PODS[0]),
        (E("KubePodCrashLooping", "warning", "frontend"),),
    ),
    Fault(
        "oom-kill",
        "a frontend container is OOM-killed every 10 minutes",
        _add("oom_killed_pods", _FRONTEND_PODS[1]),
        (E("KubeContainerOOMKilled", "warning", "frontend"),),
    ),
    Fault(
        "pod-not-ready",
        "a frontend pod runs without getting Ready",
        _add("not_ready_pods", _FRONTEND_PODS[1]),
        (E("KubePodNotReady", "warning", "frontend"),),
    ),
    Fault(
        "replicas-mismatch",
        f"the frontend Deployment has {_FRONTEND_REPLICAS - 1} of its {_FRONTEND_REPLICAS} replicas, no rollout moving",
        lambda conditions: conditions.available_replicas.update(frontend=_FRONTEND_REPLICAS - 1),
        (E("KubeWorkloadReplicasMismatch", "warning", "frontend"),),
    ),
    Fault(
        "rollout-stuck",
        "the frontend Deployment's controller never observes its latest generation",
        _add("stuck_rollouts", "frontend"),
        (E("KubeWorkloadRolloutStuck", "warning", "frontend"),),
    ),
    Fault(
        "hpa-maxed",
        "the frontend's autoscaler sits at its maximum",
        _add("maxed_hpas", "frontend"),
        (E("KubeHpaMaxedOut", "warning", "frontend"),),
    ),
    Fault(
        "workload-down",
        "the frontend Deployment has no available replica",
        _frontend_down,
        (E("KubeWorkloadDown", "critical", "frontend"),),
        held_back=(E("KubePodNotReady", "warning", "frontend"),),
    ),
    Fault(
        "job-failed",
        f"Airflow's Job {_AIRFLOW_JOB} fails (its retries spent)",
        _add("failed_jobs", _AIRFLOW_JOB),
        (E("KubeJobFailed", "warning", "airflow"),),
    ),
    Fault(
        "cronjob-missed",
        f"CronJob {_AIRFLOW_CRONJOB} falls due and never starts",
        _add("late_cronjobs", _AIRFLOW_CRONJOB),
        (E("KubeCronJobNotScheduled", "warning", "airflow"),),
        # It can only show once the run is cronJobLateMinutes (15) late.
        window="15m",
    ),
    Fault(
        "node-not-ready",
        "a node stops being Ready without being cordoned",
        _add("not_ready_nodes", 1),
        (E("KubeNodeNotReady", "warning", "cluster"),),
    ),
    Fault(
        "node-cordoned-dead",
        "a cordoned node stops being Ready and stays so",
        _cordoned_dead,
        (E("KubeNodeNotReady", "warning", "cluster"),),
        # The cordon excuses it for the grace (rule_kubernetes._CORDONED_NOT_READY_GRACE) before the wait starts.
        window="15m",
    ),
    Fault(
        "daemonset-not-scheduled",
        f"DaemonSet {_NODE_EXPORTER} lacks its pod on one node",
        _add("unscheduled_daemonsets", _NODE_EXPORTER),
        # The pod missing is a shortfall the rollout does not fix: stuck too (kubernetes-mixin's rule), once the
        # updated count (which fell with it) has not changed for the rule's progress window.
        (
            E("KubeDaemonSetNotScheduled", "warning", "monitoring"),
            E("KubeDaemonSetRolloutStuck", "warning", "monitoring"),
        ),
        window="5m",
    ),
    Fault(
        "daemonset-misscheduled",
        f"DaemonSet {_NODE_AGENT} keeps a pod on a node it no longer selects",
        _add("misscheduled_daemonsets", _NODE_AGENT),
        (E("KubeDaemonSetMisScheduled", "warning", "screener"), E("KubeDaemonSetRolloutStuck", "warning", "screener")),
    ),
    Fault(
        "node-pressure",
        "a node reports MemoryPressure",
        lambda conditions: conditions.node_pressure.update({0: "MemoryPressure"}),
        (E("KubeNodePressure", "warning", "cluster"),),
    ),
)
FAULTS: dict[str, Fault] = {fault.name: fault for fault in FAULT_LIST}
NONE = "none"


def apply_faults(names: tuple[str, ...], healthy: Conditions) -> Conditions:
    """The platform with these faults; `none` (or no name) is the healthy platform."""
    unknown = [name for name in names if name not in FAULTS and name != NONE]
    if unknown:
        raise KeyError(f"unknown fault(s) {unknown}; known: {', '.join([NONE, *FAULTS])}")
    conditions = healthy.copy()
    for name in names:
        if name != NONE:
            FAULTS[name].apply(conditions)
    return conditions
