"""A traffic simulator serving every series the rules and dashboards read, as the platform would.

Each scrape job of the stack (from the real scrape-config renderer) gets
one or more simulated targets (`/metrics/<job>/<replica>`) speaking for its
catalog source: the backend's metrics contract with its real label sets and
buckets, postgres_exporter, redis_exporter, nginx-prometheus-exporter,
celery-exporter, Airflow through statsd_exporter, node_exporter,
kube-state-metrics, the kubelet, cAdvisor and the collector agent.

What a target serves is a function of `Conditions` (the state of the
platform: traffic, error share, latency profile, pool use, disk space, ...)
that the fault injector (`lab/faults.py`) changes. Counters and histograms
are integrated from rates at each scrape, with a few percent of jitter, so
they only ever grow and histograms stay consistent (`_count` equals the
`+Inf` bucket, buckets are cumulative) whatever the faults do. Every
catalog metric of a source must have a model here: `SOURCES` is checked
against `infra.metrics` by the tests, so a new catalog series cannot be
forgotten.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from infra.metrics import SCRAPED_BY_SOURCE, Metric

Labels = tuple[tuple[str, str], ...]
Kind = Literal["counter", "gauge"]

# Buckets of the backend contract (shared/seed/backend-metrics.md).
HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
DB_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
CACHE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1)
RESULTS_BUCKETS = (0, 10, 50, 100, 500, 1000, 2000)
# prometheus_client's default buckets (celery-exporter keeps them).
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
JITTER = 0.05
GIB = 1024**3


def le(bound: float) -> str:
    """A bucket bound as prometheus_client writes it ("0.5", "1.0", "+Inf")."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def lognormal_cdf(median: float, sigma: float) -> Callable[[float], float]:
    """Share of observations at or under a bound, for a log-normal latency around `median`."""
    return lambda bound: 0.5 * (1 + math.erf(math.log(bound / median) / (sigma * math.sqrt(2)))) if bound > 0 else 0.0


@dataclass
class Conditions:
    """What the simulated platform is doing; faults change a copy of the healthy one."""

    # API (per service, all replicas together).
    requests_per_second: float = 40.0
    error_share: float = 0.001  # 5xx among non-health requests
    latency_median: float = 0.035
    health_failing: bool = False
    pool_size: int = 20
    pool_busy_share: float = 0.2
    slow_queries_per_second: float = 0.0
    db_error_share: float = 0.0
    cache_hit_share: float = 0.92
    screening_per_second: float = 2.0
    # Targets answering 503 (job name, or "job/replica").
    down: set[str] = field(default_factory=set)
    # PostgreSQL.
    postgres_up: bool = True
    postgres_backends: int = 21
    postgres_max_connections: int = 100
    replication_lag_seconds: float = 0.0
    deadlocks_per_second: float = 0.0
    # Redis.
    redis_up: bool = True
    redis_memory_share: float = 0.1
    evictions_per_second: float = 0.0
    # NGINX.
    nginx_up: bool = True
    # Celery.
    celery_workers_up: bool = True
    celery_queue_lengths: dict[str, float] = field(default_factory=lambda: {"celery": 2.0, "screening": 1.0})
    celery_failure_share: float = 0.005
    # Airflow.
    airflow_heartbeat: bool = True
    airflow_failed_dags: tuple[str, ...] = ()
    airflow_import_errors: int = 0
    # Nodes and containers.
    node_memory_used_share: float = 0.55
    root_free_share: float = 0.6
    data_free_share: float = 0.38
    data_fill_share_per_second: float = 0.0
    container_memory_share: dict[str, float] = field(default_factory=dict)
    container_throttled_share: dict[str, float] = field(default_factory=dict)
    volume_free_share: float = 0.5
    # Kubernetes objects (kube-state-metrics): pods by name, workloads, Jobs, CronJobs, HPAs by name, nodes by index.
    crash_looping_pods: set[str] = field(default_factory=set)
    oom_killed_pods: set[str] = field(default_factory=set)
    not_ready_pods: set[str] = field(default_factory=set)
    available_replicas: dict[str, int] = field(default_factory=dict)  # deployment -> available, when not its spec
    stuck_rollouts: set[str] = field(default_factory=set)  # deployments whose controller lags a generation
    failed_jobs: set[str] = field(default_factory=set)
    late_cronjobs: set[str] = field(default_factory=set)  # a run that fell due is never started
    # When each late CronJob's missed run fell due (wall clock); the simulator keeps it across fault changes.
    cronjob_due: dict[str, float] = field(default_factory=dict)
    maxed_hpas: set[str] = field(default_factory=set)
    not_ready_nodes: set[int] = field(default_factory=set)
    cordoned_nodes: set[int] = field(default_factory=set)  # kube_node_spec_unschedulable 1 (kubectl cordon)
    unscheduled_daemonsets: set[str] = field(default_factory=set)  # one node lacks the DaemonSet's pod
    misscheduled_daemonsets: set[str] = field(default_factory=set)  # one pod runs on a node it no longer selects
    node_pressure: dict[int, str] = field(default_factory=dict)  # node index -> MemoryPressure, DiskPressure, ...
    # The collector agent's remote write to AMP.
    remote_write_lag_seconds: float = 0.5
    remote_write_failures_per_second: float = 0.0
    # Seconds since the faults last changed (the simulator sets it at each scrape).
    fault_age: float = 0.0

    def copy(self) -> Conditions:
        return replace(
            self,
            down=set(self.down),
            celery_queue_lengths=dict(self.celery_queue_lengths),
            container_memory_share=dict(self.container_memory_share),
            container_throttled_share=dict(self.container_throttled_share),
            crash_looping_pods=set(self.crash_looping_pods),
            oom_killed_pods=set(self.oom_killed_pods),
            not_ready_pods=set(self.not_ready_pods),
            available_replicas=dict(self.available_replicas),
            stuck_rollouts=set(self.stuck_rollouts),
            failed_jobs=set(self.failed_jobs),
            late_cronjobs=set(self.late_cronjobs),
            cronjob_due=dict(self.cronjob_due),
            maxed_hpas=set(self.maxed_hpas),
            not_ready_nodes=set(self.not_ready_nodes),
            cordoned_nodes=set(self.cordoned_nodes),
            unscheduled_daemonsets=set(self.unscheduled_daemonsets),
            misscheduled_daemonsets=set(self.misscheduled_daemonsets),
            node_pressure=dict(self.node_pressure),
        )


@dataclass(frozen=True)
class Sample:
    """One series of a target: a counter advances by `value` per second, a gauge shows `value`."""

    name: str
    labels: Labels
    value: float
    kind: Kind


def _labels(**values: str) -> Labels:
    return tuple(values.items())


class Series:
    """Collects the samples of one scrape; histograms expand into consistent bucket counters."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def counter(self, name: str, rate: float, /, **labels: str) -> None:
        self.samples.append(Sample(name, _labels(**labels), max(rate, 0.0), "counter"))

    def gauge(self, name: str, value: float, /, **labels: str) -> None:
        self.samples.append(Sample(name, _labels(**labels), value, "gauge"))

    def histogram(
        self,
        name: str,
        rate: float,
        bounds: tuple[float, ...],
        cdf: Callable[[float], float],
        mean: float,
        /,
        **labels: str,
    ) -> None:
        for bound in (*bounds, math.inf):
            share = 1.0 if math.isinf(bound) else min(1.0, cdf(bound))
            self.counter(f"{name}_bucket", rate * share, **labels, le=le(bound))
        self.counter(f"{name}_sum", rate * mean, **labels)
        self.counter(f"{name}_count", rate, **labels)

    def summary(self, name: str, rate: float, mean: float, /, **labels: str) -> None:
        # statsd_exporter's timer summaries carry quantiles too.
        for quantile in ("0.5", "0.9", "0.99"):
            self.gauge(name, mean * {"0.5": 1.0, "0.9": 1.6, "0.99": 2.2}[quantile], **labels, quantile=quantile)
        self.counter(f"{name}_sum", rate * mean, **labels)
        self.counter(f"{name}_count", rate, **labels)


# --- the backend (prometheus_client in FastAPI) -------------------------------

# (method, endpoint, share of non-health traffic)
ENDPOINTS = (
    ("GET", "/api/v1/stocks", 0.45),
    ("POST", "/api/v1/screen", 0.30),
    ("GET", "/api/v1/portfolio", 0.12),
    ("POST", "/api/v1/portfolio", 0.05),
    ("POST", "/api/v1/auth/login", 0.05),
    ("GET", "/api/v1/stocks/{symbol}", 0.03),
)
HEALTH_PER_SECOND = 0.2  # kubelet probes and the load balancer
CLIENT_ERROR_SHARE = 0.02
TABLES = (("select", "stocks", 0.5), ("select", "prices", 0.3), ("insert", "portfolios", 0.1), ("update", "users", 0.1))
SCREENING_TEMPLATES = (("custom", 0.4), ("value", 0.25), ("growth", 0.2), ("momentum", 0.1), ("dividend", 0.05))


def application(c: Conditions, replicas: int) -> Series:
    s = Series()
    share = 1 / replicas
    rps = c.requests_per_second * share
    latency = lognormal_cdf(c.latency_median, 0.8)
    for method, endpoint, weight in ENDPOINTS:
        rate = rps * weight
        errors = rate * c.error_share
        client = rate * CLIENT_ERROR_SHARE
        ok = "201" if method == "POST" and endpoint == "/api/v1/portfolio" else "200"
        s.counter("http_requests_total", rate - errors - client, method=method, endpoint=endpoint, status_code=ok)
        s.counter("http_requests_total", client, method=method, endpoint=endpoint, status_code="404")
        for code, part in (("500", 0.7), ("503", 0.3)):
            s.counter("http_requests_total", errors * part, method=method, endpoint=endpoint, status_code=code)
            s.counter("http_errors_total", errors * part, method=method, endpoint=endpoint, status_code=code)
        s.histogram(
            "http_request_duration_seconds",
            rate,
            HTTP_BUCKETS,
            latency,
            c.latency_median * 1.4,
            method=method,
            endpoint=endpoint,
        )
        s.gauge("http_requests_in_progress", round(rate * c.latency_median * 1.4, 2), method=method, endpoint=endpoint)
    health = HEALTH_PER_SECOND * share
    status = "503" if c.health_failing else "200"
    s.counter("http_requests_total", health, method="GET", endpoint="/health", status_code=status)
    if c.health_failing:
        s.counter("http_errors_total", health, method="GET", endpoint="/health", status_code=status)
    s.histogram(
        "http_request_duration_seconds",
        health,
        HTTP_BUCKETS,
        lognormal_cdf(0.002, 0.3),
        0.002,
        method="GET",
        endpoint="/health",
    )
    s.gauge("http_requests_in_progress", 0, method="GET", endpoint="/health")

    queries = rps * 3
    for operation, table, weight in TABLES:
        rate = queries * weight
        s.histogram(
            "db_query_duration_seconds",
            rate,
            DB_BUCKETS,
            lognormal_cdf(0.004, 0.9),
            0.006,
            operation=operation,
            table=table,
        )
        s.counter("db_slow_queries_total", c.slow_queries_per_second * weight, operation=operation, table=table)
    for operation, error_type in (("select", "OperationalError"), ("insert", "IntegrityError")):
        s.counter(
            "db_query_errors_total",
            queries * (c.db_error_share / 2 + 0.00001),
            operation=operation,
            error_type=error_type,
        )
    busy = round(c.pool_size * c.pool_busy_share * share)
    s.gauge("db_connections_active", busy)
    s.gauge("db_connections_idle", round(c.pool_size * share) - busy)

    gets = rps * 2.5
    s.counter("cache_operations_total", gets * c.cache_hit_share, operation="get", result="hit")
    s.counter("cache_operations_total", gets * (1 - c.cache_hit_share), operation="get", result="miss")
    s.counter("cache_operations_total", gets * 0.0005, operation="get", result="error")
    for operation, rate in (("set", gets * (1 - c.cache_hit_share) + 0.1), ("delete", rps * 0.02)):
        s.counter("cache_operations_total", rate, operation=operation, result="hit")
        s.counter("cache_operations_total", rate * 0.0005, operation=operation, result="error")
    for operation, rate in (("get", gets), ("set", gets * 0.1 + 0.1), ("delete", rps * 0.02)):
        s.histogram(
            "cache_operation_duration_seconds",
            rate,
            CACHE_BUCKETS,
            lognormal_cdf(0.0008, 0.6),
            0.001,
            operation=operation,
        )
    s.gauge("cache_hit_ratio", round(c.cache_hit_share, 4))
    s.gauge("cache_memory_usage_bytes", c.redis_memory_share * GIB)

    s.counter("user_registrations_total", 0.02 * share)
    s.counter("user_logins_total", 0.5 * share, result="success")
    s.counter("user_logins_total", 0.02 * share, result="failure")
    for template, weight in SCREENING_TEMPLATES:
        s.counter("screening_requests_total", c.screening_per_second * share * weight, template=template)
    s.histogram("screening_results_count", c.screening_per_second * share, RESULTS_BUCKETS, lognormal_cdf(80, 1.2), 140)
    for operation, rate in (("create", 0.05), ("update", 0.2), ("delete", 0.02)):
        s.counter("portfolio_operations_total", rate * share, operation=operation)
    s.gauge("active_users_current", round(120 * share))
    s.gauge("websocket_connections_active", round(140 * share))
    for direction, message_type, rate in (
        ("sent", "price_update", 30.0),
        ("received", "subscribe", 0.5),
        ("received", "ping", 2.0),
        ("sent", "pong", 2.0),
    ):
        s.counter("websocket_messages_total", rate * share, direction=direction, message_type=message_type)
    s.gauge("app_info", 1, name="screener-backend", version="1.4.2", environment="lab")
    return s


# --- exporters ----------------------------------------------------------------

Model = Callable[[Conditions, int], Series]


def server_exporter(up_metric: str, server_up: Callable[[Conditions], bool]) -> Callable[[Model], Model]:
    """The model of an exporter of one server, gated on whether it reaches the server.

    `up_metric` is 1 or 0; while the server is unreachable the exporter reports
    nothing else about it (postgres_exporter, redis_exporter, nginx-prometheus-exporter).
    """

    def gate(model: Model) -> Model:
        @functools.wraps(model)
        def serve(c: Conditions, replicas: int) -> Series:
            s = Series()
            s.gauge(up_metric, 1 if server_up(c) else 0)
            if server_up(c):
                s.samples += model(c, replicas).samples
            return s

        return serve

    return gate


@server_exporter("pg_up", lambda c: c.postgres_up)
def postgres(c: Conditions, replicas: int) -> Series:
    s = Series()
    s.gauge("pg_settings_max_connections", c.postgres_max_connections)
    idle = max(c.postgres_backends - 9, 0)
    states = {"active": c.postgres_backends - idle - 1, "idle": idle, "idle in transaction": 1}
    for state, count in states.items():
        s.gauge("pg_stat_activity_count", count, datname="screener", state=state)
        s.gauge("pg_stat_activity_max_tx_duration", 0.4 if state != "idle" else 0, datname="screener", state=state)
    for datname, weight in (("screener", 1.0), ("postgres", 0.01)):
        s.gauge("pg_stat_database_numbackends", round(c.postgres_backends * weight), datid="16384", datname=datname)
        s.counter("pg_stat_database_xact_commit", 120 * weight, datid="16384", datname=datname)
        s.counter("pg_stat_database_xact_rollback", 0.3 * weight, datid="16384", datname=datname)
        s.counter("pg_stat_database_deadlocks", c.deadlocks_per_second * weight, datid="16384", datname=datname)
        s.counter("pg_stat_database_blks_hit", 5000 * weight, datid="16384", datname=datname)
        s.counter("pg_stat_database_blks_read", 40 * weight, datid="16384", datname=datname)
        s.gauge("pg_database_size_bytes", 12 * GIB * weight, datname=datname)
        for mode in ("accesssharelock", "rowexclusivelock", "exclusivelock"):
            s.gauge(
                "pg_locks_count",
                {"accesssharelock": 9, "rowexclusivelock": 3, "exclusivelock": 0}[mode] * weight,
                datname=datname,
                mode=mode,
            )
    s.gauge("pg_replication_lag_seconds", c.replication_lag_seconds)
    s.gauge("pg_replication_is_replica", 0)
    return s


@server_exporter("redis_up", lambda c: c.redis_up)
def redis(c: Conditions, replicas: int) -> Series:
    s = Series()
    s.gauge("redis_memory_max_bytes", GIB)
    s.gauge("redis_memory_used_bytes", round(c.redis_memory_share * GIB))
    s.counter("redis_evicted_keys_total", c.evictions_per_second)
    s.counter("redis_expired_keys_total", 3.0)
    s.counter("redis_keyspace_hits_total", 92.0 * c.cache_hit_share / 0.92)
    s.counter("redis_keyspace_misses_total", 100 * (1 - c.cache_hit_share))
    s.gauge("redis_connected_clients", 24)
    s.counter("redis_rejected_connections_total", 0.0)
    s.counter("redis_commands_processed_total", 260.0)
    s.gauge("redis_db_keys", 48_000, db="db0")
    s.gauge("redis_db_keys", 1_200, db="db1")
    return s


@server_exporter("nginx_up", lambda c: c.nginx_up)
def nginx(c: Conditions, replicas: int) -> Series:
    s = Series()
    s.gauge("nginx_connections_active", 36)
    s.gauge("nginx_connections_waiting", 20)
    s.counter("nginx_connections_accepted", 8.0)
    s.counter("nginx_connections_handled", 8.0)
    s.counter("nginx_http_requests_total", c.requests_per_second * 1.6)
    return s


CELERY_WORKERS = ("celery@worker-0", "celery@worker-1")
CELERY_TASKS = (
    ("screener.tasks.refresh_prices", 1.0),
    ("screener.tasks.run_screening", 0.6),
    ("screener.tasks.send_digest", 0.05),
)


def celery(c: Conditions, replicas: int) -> Series:
    s = Series()
    for hostname in CELERY_WORKERS:
        s.gauge("celery_worker_up", 1 if c.celery_workers_up else 0, hostname=hostname)
    for queue, length in c.celery_queue_lengths.items():
        s.gauge("celery_queue_length", length, queue_name=queue)
        s.gauge("celery_active_worker_count", len(CELERY_WORKERS) if c.celery_workers_up else 0, queue_name=queue)
    running = 1.0 if c.celery_workers_up else 0.0
    for name, rate in CELERY_TASKS:
        s.counter("celery_task_received_total", rate * running, name=name, hostname=CELERY_WORKERS[0])
        s.counter("celery_task_started_total", rate * running, name=name, hostname=CELERY_WORKERS[0])
        s.counter(
            "celery_task_succeeded_total",
            rate * running * (1 - c.celery_failure_share),
            name=name,
            hostname=CELERY_WORKERS[0],
        )
        s.counter(
            "celery_task_failed_total",
            rate * running * c.celery_failure_share,
            name=name,
            exception="TimeoutError",
            hostname=CELERY_WORKERS[0],
        )
        s.counter("celery_task_retried_total", rate * running * 0.01, name=name, hostname=CELERY_WORKERS[0])
        s.histogram(
            "celery_task_runtime",
            rate * running,
            DEFAULT_BUCKETS,
            lognormal_cdf(0.8, 0.7),
            1.0,
            name=name,
            hostname=CELERY_WORKERS[0],
        )
    return s


AIRFLOW_DAGS = ("refresh_market_data", "nightly_fundamentals")


def airflow(c: Conditions, replicas: int) -> Series:
    s = Series()
    s.counter("airflow_scheduler_heartbeat", 0.2 if c.airflow_heartbeat else 0.0)
    for dag_id in AIRFLOW_DAGS:
        s.summary("airflow_dagrun_duration_success", 0.01, 420.0, dag_id=dag_id)
    # statsd_exporter creates the failed-run series at the first failed run.
    for dag_id in c.airflow_failed_dags:
        s.summary("airflow_dagrun_duration_failed", 0.05, 120.0, dag_id=dag_id)
    s.counter("airflow_ti_successes", 0.3)
    s.counter("airflow_ti_failures", 0.05 * len(c.airflow_failed_dags) + 0.0005)
    s.gauge("airflow_dag_processing_import_errors", c.airflow_import_errors)
    s.gauge("airflow_executor_open_slots", 28)
    s.gauge("airflow_executor_queued_tasks", 1)
    s.gauge("airflow_executor_running_tasks", 3)
    return s


NODES = ("ip-10-0-1-21.ap-northeast-2.compute.internal", "ip-10-0-2-37.ap-northeast-2.compute.internal")
NODE_MEMORY = 16 * GIB
ROOT_SIZE = 80 * GIB
DATA_SIZE = 200 * GIB


def node_exporter(c: Conditions, replicas: int, replica: int = 0) -> Series:
    s = Series()
    for cpu in ("0", "1"):
        for mode, rate in (("idle", 0.62), ("user", 0.25), ("system", 0.08), ("iowait", 0.02), ("steal", 0.01)):
            s.counter("node_cpu_seconds_total", rate, cpu=cpu, mode=mode)
    used = c.node_memory_used_share if replica == 0 else 0.5
    s.gauge("node_memory_MemTotal_bytes", NODE_MEMORY)
    s.gauge("node_memory_MemAvailable_bytes", round(NODE_MEMORY * (1 - used)))
    root_free = c.root_free_share if replica == 0 else 0.6
    data_free = c.data_free_share - c.data_fill_share_per_second * c.fault_age if replica == 1 else 0.7
    data_free = max(data_free, 0.01)
    filesystems = (
        ("/dev/nvme0n1p1", "xfs", "/", ROOT_SIZE, root_free),
        ("/dev/nvme1n1", "ext4", "/var/lib/data", DATA_SIZE, data_free),
        ("tmpfs", "tmpfs", "/run", GIB, 0.99),
    )
    for device, fstype, mountpoint, size, free in filesystems:
        labels = {"device": device, "fstype": fstype, "mountpoint": mountpoint}
        s.gauge("node_filesystem_size_bytes", size, **labels)
        s.gauge("node_filesystem_avail_bytes", round(size * free), **labels)
        s.gauge("node_filesystem_readonly", 0, **labels)
    for device, rate in (("eth0", 2.5e6), ("lo", 4e5)):
        s.counter("node_network_receive_bytes_total", rate, device=device)
        s.counter("node_network_transmit_bytes_total", rate * 0.8, device=device)
    s.gauge("node_load1", 0.9)
    return s


# Pods of the screener namespaces: (namespace, pod, container, memory limit bytes).
PODS = (
    ("screener", "api-7d9f8c6b5-x2kqp", "api", 1 * GIB),
    ("screener", "api-7d9f8c6b5-m4n8z", "api", 1 * GIB),
    ("screener", "celery-worker-5c8d7f9b6-q7w2e", "celery-worker", 2 * GIB),
    ("screener", "nginx-6b7c9d8f5-h3j5k", "nginx", 256 * 1024**2),
    ("airflow", "airflow-scheduler-0", "airflow-scheduler", 2 * GIB),
    ("monitoring", "prometheus-agent-0", "prometheus", 1 * GIB),
    ("screener", "frontend-6c5d8f7b9-a1b2c", "frontend", 512 * 1024**2),
    ("screener", "frontend-6c5d8f7b9-d3e4f", "frontend", 512 * 1024**2),
)
DEPLOYMENTS = (
    ("screener", "api", 2),
    ("screener", "celery-worker", 1),
    ("screener", "nginx", 1),
    ("screener", "frontend", 2),
)
STATEFULSETS = (("screener", "postgres", 1), ("screener", "redis-master", 1), ("airflow", "airflow-scheduler", 1))
VOLUMES = (("screener", "data-postgres-0", 100 * GIB), ("screener", "redis-data-redis-master-0", 8 * GIB))
# (namespace, Job) of the last run of each CronJob, (namespace, CronJob), (namespace, HPA, min, max).
JOBS = (("airflow", "airflow-db-cleanup-28935120"), ("screener", "api-report-28935180"))
CRONJOBS = (("airflow", "airflow-db-cleanup"), ("screener", "api-report"))
HPAS = (("screener", "frontend", 1, 4), ("screener", "api", 2, 6))
# DaemonSets, one pod per node: node-exporter in the collector's namespace (service `monitoring`, no prefix
# matches) and a node agent of the screener namespace (service `screener`): services no other lane uses.
DAEMONSETS = (("monitoring", "node-exporter"), ("screener", "logs-forwarder"))
# The pod of each Job's last run (namespace, pod, Job): Succeeded, owned by its Job (kube_pod_owner).
JOB_PODS = (("airflow", "airflow-db-cleanup-28935120-x7k2p", "airflow-db-cleanup-28935120"),)
# Restarts per lab second of a crash-looping (CrashLoopBackOff backs off up to 5 minutes) and an OOM-killed container.
CRASH_LOOP_RESTARTS_PER_SECOND = 0.2
OOM_RESTARTS_PER_SECOND = 0.1
GENERATION = 7
# A healthy CronJob's next run is half an hour away (30 lab seconds at 1/60).
NEXT_RUN_SECONDS = 30.0
NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def _pods(c: Conditions, s: Series) -> None:
    for namespace, pod, container, limit in PODS:
        labels = {"namespace": namespace, "pod": pod, "container": container}
        for resource, unit, limit_value, request in (("memory", "byte", limit, limit / 2), ("cpu", "core", 1, 0.25)):
            resource_labels = {**labels, "resource": resource, "unit": unit, "node": NODES[0]}
            s.gauge("kube_pod_container_resource_limits", limit_value, **resource_labels)
            s.gauge("kube_pod_container_resource_requests", request, **resource_labels)
        crash_looping, oom_killed = pod in c.crash_looping_pods, pod in c.oom_killed_pods
        restarts = CRASH_LOOP_RESTARTS_PER_SECOND if crash_looping else OOM_RESTARTS_PER_SECOND if oom_killed else 0.0
        s.counter("kube_pod_container_status_restarts_total", restarts, **labels)
        # kube-state-metrics reports a waiting reason only while the container waits,
        # and a last termination only for a container that terminated before.
        if crash_looping:
            s.gauge("kube_pod_container_status_waiting_reason", 1, **labels, reason="CrashLoopBackOff")
            s.gauge("kube_pod_container_status_last_terminated_reason", 1, **labels, reason="Error")
        if oom_killed:
            s.gauge("kube_pod_container_status_last_terminated_reason", 1, **labels, reason="OOMKilled")
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            s.gauge("kube_pod_status_phase", 1 if phase == "Running" else 0, namespace=namespace, pod=pod, phase=phase)
        ready = "false" if pod in c.not_ready_pods else "true"
        for status in ("true", "false", "unknown"):
            s.gauge("kube_pod_status_ready", int(status == ready), namespace=namespace, pod=pod, condition=status)
        # Every pod has an owner; the scrape job keeps Job owners only, so these never reach the rules.
        owner_kind, owner = ("StatefulSet", pod.rsplit("-", 1)[0]) if pod[-1].isdigit() else ("ReplicaSet", pod)
        s.gauge("kube_pod_owner", 1, namespace=namespace, pod=pod, owner_kind=owner_kind, owner_name=owner)
    for namespace, pod, job in JOB_PODS:
        s.gauge("kube_pod_owner", 1, namespace=namespace, pod=pod, owner_kind="Job", owner_name=job)
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            s.gauge("kube_pod_status_phase", int(phase == "Succeeded"), namespace=namespace, pod=pod, phase=phase)


def _daemonsets(c: Conditions, s: Series) -> None:
    desired = len(NODES)
    for namespace, daemonset in DAEMONSETS:
        labels = {"namespace": namespace, "daemonset": daemonset}
        current = desired - 1 if daemonset in c.unscheduled_daemonsets else desired
        s.gauge("kube_daemonset_status_desired_number_scheduled", desired, **labels)
        s.gauge("kube_daemonset_status_current_number_scheduled", current, **labels)
        s.gauge("kube_daemonset_status_updated_number_scheduled", current, **labels)
        s.gauge("kube_daemonset_status_number_available", current, **labels)
        misscheduled = 1 if daemonset in c.misscheduled_daemonsets else 0
        s.gauge("kube_daemonset_status_number_misscheduled", misscheduled, **labels)


def _workloads(c: Conditions, s: Series) -> None:
    for namespace, deployment, count in DEPLOYMENTS:
        labels = {"namespace": namespace, "deployment": deployment}
        s.gauge("kube_deployment_spec_replicas", count, **labels)
        s.gauge("kube_deployment_status_replicas_available", c.available_replicas.get(deployment, count), **labels)
        s.gauge("kube_deployment_status_replicas_updated", count, **labels)
        s.gauge("kube_deployment_metadata_generation", GENERATION, **labels)
        observed = GENERATION - 1 if deployment in c.stuck_rollouts else GENERATION
        s.gauge("kube_deployment_status_observed_generation", observed, **labels)
        for condition in ("Available", "Progressing"):
            for status in ("true", "false", "unknown"):
                s.gauge(
                    "kube_deployment_status_condition",
                    int(status == "true"),
                    **labels,
                    condition=condition,
                    status=status,
                )
    for namespace, statefulset, count in STATEFULSETS:
        labels = {"namespace": namespace, "statefulset": statefulset}
        for metric in ("replicas", "status_replicas_ready", "status_replicas_updated"):
            s.gauge(f"kube_statefulset_{metric}", count, **labels)
        s.gauge("kube_statefulset_metadata_generation", GENERATION, **labels)
        s.gauge("kube_statefulset_status_observed_generation", GENERATION, **labels)
    for namespace, hpa, minimum, maximum in HPAS:
        labels = {"namespace": namespace, "horizontalpodautoscaler": hpa}
        s.gauge("kube_horizontalpodautoscaler_spec_min_replicas", minimum, **labels)
        s.gauge("kube_horizontalpodautoscaler_spec_max_replicas", maximum, **labels)
        current = maximum if hpa in c.maxed_hpas else minimum + 1
        s.gauge("kube_horizontalpodautoscaler_status_current_replicas", current, **labels)


def _batch(c: Conditions, s: Series) -> None:
    for namespace, job in JOBS:
        # Only a Job with a Failed condition has kube_job_failed series.
        if job in c.failed_jobs:
            for status in ("true", "false", "unknown"):
                s.gauge("kube_job_failed", int(status == "true"), namespace=namespace, job_name=job, condition=status)
    now = time.time()
    for namespace, cronjob in CRONJOBS:
        # kube-state-metrics computes the next run from the last one: a run never started stays due.
        next_run = c.cronjob_due.get(cronjob, now + NEXT_RUN_SECONDS)
        s.gauge("kube_cronjob_next_schedule_time", next_run, namespace=namespace, cronjob=cronjob)


def kube_state_metrics(c: Conditions, replicas: int) -> Series:
    s = Series()
    _pods(c, s)
    _workloads(c, s)
    _daemonsets(c, s)
    _batch(c, s)
    for index, node in enumerate(NODES):
        for condition in NODE_CONDITIONS:
            holds = index not in c.not_ready_nodes if condition == "Ready" else c.node_pressure.get(index) == condition
            for status in ("true", "false", "unknown"):
                s.gauge(
                    "kube_node_status_condition",
                    int((status == "true") == holds and status != "unknown"),
                    node=node,
                    condition=condition,
                    status=status,
                )
        s.gauge("kube_node_spec_unschedulable", int(index in c.cordoned_nodes), node=node)
    return s


def kubelet(c: Conditions, replicas: int) -> Series:
    s = Series()
    for index, (namespace, claim, capacity) in enumerate(VOLUMES):
        free = c.volume_free_share if index == 0 else 0.6
        s.gauge("kubelet_volume_stats_capacity_bytes", capacity, namespace=namespace, persistentvolumeclaim=claim)
        s.gauge(
            "kubelet_volume_stats_available_bytes",
            round(capacity * free),
            namespace=namespace,
            persistentvolumeclaim=claim,
        )
    return s


def cadvisor(c: Conditions, replicas: int) -> Series:
    s = Series()
    for namespace, pod, container, limit in PODS:
        labels = {"namespace": namespace, "pod": pod, "container": container}
        memory = c.container_memory_share.get(container, 0.45)
        throttled = c.container_throttled_share.get(container, 0.02)
        s.counter("container_cpu_usage_seconds_total", 0.15, **labels, cpu="total")
        s.counter("container_cpu_cfs_periods_total", 10.0, **labels)
        s.counter("container_cpu_cfs_throttled_periods_total", 10.0 * throttled, **labels)
        s.gauge("container_memory_working_set_bytes", round(limit * memory), **labels)
        s.gauge("container_spec_memory_limit_bytes", limit, **labels)
        s.gauge("container_fs_usage_bytes", 300 * 1024**2, **labels, device="/dev/nvme0n1p1")
        s.gauge("container_fs_limit_bytes", ROOT_SIZE, **labels, device="/dev/nvme0n1p1")
        # cAdvisor reports network per pod, on the pause container (container="").
        if container == next(p[2] for p in PODS if p[1] == pod):
            pod_labels = {"namespace": namespace, "pod": pod, "container": "", "interface": "eth0"}
            s.counter("container_network_receive_bytes_total", 2e5, **pod_labels)
            s.counter("container_network_transmit_bytes_total", 1.5e5, **pod_labels)
    return s


def collector(c: Conditions, replicas: int) -> Series:
    s = Series()
    remote = {"remote_name": "amp", "url": "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-lab"}
    s.counter("prometheus_remote_storage_samples_failed_total", c.remote_write_failures_per_second, **remote)
    s.gauge("prometheus_remote_storage_samples_pending", 120, **remote)
    now = time.time()
    s.gauge("prometheus_remote_storage_highest_timestamp_in_seconds", now)
    s.gauge(
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds", now - c.remote_write_lag_seconds, **remote
    )
    s.counter("prometheus_rule_evaluation_failures_total", 0.0, rule_group="/etc/prometheus/rules.yml;lab")
    return s


# Every scraped catalog source and its model; the tests check this against infra.metrics.
SOURCES: dict[str, Model] = {
    "application": application,
    "postgres_exporter": postgres,
    "redis_exporter": redis,
    "nginx-prometheus-exporter": nginx,
    "celery-exporter": celery,
    "statsd_exporter": airflow,
    "node_exporter": node_exporter,
    "kube-state-metrics": kube_state_metrics,
    "kubelet": kubelet,
    "cadvisor": cadvisor,
    "collector": collector,
}
# Replicas per source: two API pods (a partial outage exists), two nodes.
REPLICAS = {"application": 2, "node_exporter": 2}


def healthy_series_names(source: str) -> frozenset[str]:
    """The series names a healthy target of `source` serves."""
    names = {sample.name for sample in SOURCES[source](Conditions(), REPLICAS.get(source, 1)).samples}
    return frozenset(names)


def catalog_names(source: str) -> frozenset[str]:
    metrics: tuple[Metric, ...] = SCRAPED_BY_SOURCE[source]
    return frozenset(name for metric in metrics for name in metric.series_names)


@dataclass(frozen=True)
class Target:
    """One simulated scrape target: a job of the stack's scrape config and its replica."""

    job: str
    source: str
    replica: int

    @property
    def path(self) -> str:
        return f"/metrics/{self.job}/{self.replica}"

    @property
    def key(self) -> str:
        return f"{self.job}/{self.replica}"


class Simulator:
    """The state of the simulated platform and the exposition of each target at the current time."""

    def __init__(self, jobs: dict[str, str], seed: int = 7) -> None:
        """`jobs`: scrape job name -> catalog source."""
        unknown = sorted(set(jobs.values()) - set(SOURCES))
        if unknown:
            raise ValueError(f"the simulator has no model for the catalog sources {unknown}")
        self.targets = tuple(
            Target(job, source, replica) for job, source in jobs.items() for replica in range(REPLICAS.get(source, 1))
        )
        self.healthy = Conditions()
        self.faults: tuple[str, ...] = ()
        self.conditions = self.healthy.copy()
        self.changed_at = time.monotonic()
        self._totals: dict[tuple[str, str, Labels], float] = {}
        self._last: dict[str, float] = {}
        self._random = random.Random(seed)
        self._cronjob_due: dict[str, float] = {}
        self._lock = threading.Lock()

    def target(self, path: str) -> Target | None:
        return next((target for target in self.targets if target.path == path), None)

    def set_conditions(self, faults: tuple[str, ...], conditions: Conditions) -> None:
        with self._lock:
            # Bring every counter up to now at the old rates before they change.
            for target in self.targets:
                self._advance(target, time.monotonic())
            self.faults = faults
            # A missed run fell due when its fault began, whatever other faults change after.
            now = time.time()
            self._cronjob_due = {name: self._cronjob_due.get(name, now) for name in sorted(conditions.late_cronjobs)}
            self.conditions = replace(conditions, cronjob_due=dict(self._cronjob_due))
            self.changed_at = time.monotonic()

    def is_down(self, target: Target) -> bool:
        return target.job in self.conditions.down or target.key in self.conditions.down

    def _samples(self, target: Target, now: float) -> list[Sample]:
        replicas = REPLICAS.get(target.source, 1)
        conditions = replace(self.conditions, fault_age=now - self.changed_at)
        if target.source == "node_exporter":
            return node_exporter(conditions, replicas, target.replica).samples
        return SOURCES[target.source](conditions, replicas).samples

    def _advance(self, target: Target, now: float) -> list[Sample]:
        samples = self._samples(target, now)
        elapsed = now - self._last.get(target.key, now)
        self._last[target.key] = now
        # One jitter per target and scrape: traffic wobbles, yet every request
        # still lands in exactly one bucket, one status code and the count.
        factor = 1 + self._random.uniform(-JITTER, JITTER)
        for sample in samples:
            if sample.kind != "counter":
                continue
            key = (target.key, sample.name, sample.labels)
            self._totals[key] = self._totals.get(key, 0.0) + sample.value * elapsed * factor
        return samples

    def exposition(self, target: Target) -> str:
        """The target's metrics in the Prometheus text format, as of now."""
        with self._lock:
            samples = self._advance(target, time.monotonic())
            lines: list[str] = []
            for sample in samples:
                value = (
                    self._totals[(target.key, sample.name, sample.labels)] if sample.kind == "counter" else sample.value
                )
                labels = ",".join(f'{name}="{_escape(v)}"' for name, v in sample.labels)
                lines.append(f"{sample.name}{{{labels}}} {value!r}" if labels else f"{sample.name} {value!r}")
            return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
