"""A tiny exporter on loopback that plays a healthy screener platform.

Each scraped service of the catalog gets its own path (`/metrics/<service>`)
with the series its rules read, at healthy values: counters grow with time
at a steady rate, gauges sit well inside their thresholds. `set_down(name)`
makes that path answer 503, which is what a crashed target looks like to
the scraper (`up` becomes 0).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infra.config import StackInput

# Healthy API traffic: 40 requests/s, 0.1 % of them 5xx, p95 around 100 ms.
REQUESTS_PER_SECOND = 40.0
ERROR_SHARE = 0.001
# Share of requests at or under each bucket bound of http_request_duration_seconds.
LATENCY_CDF = {
    "0.01": 0.20,
    "0.025": 0.45,
    "0.05": 0.70,
    "0.1": 0.95,
    "0.25": 0.99,
    "0.5": 0.998,
    "1": 0.9995,
    "2.5": 1.0,
    "5": 1.0,
    "10": 1.0,
    "+Inf": 1.0,
}
ENDPOINTS = ("/api/v1/screen", "/health")


def _api(elapsed: float) -> list[str]:
    lines = []
    for endpoint in ENDPOINTS:
        total = REQUESTS_PER_SECOND * elapsed / len(ENDPOINTS)
        errors = total * ERROR_SHARE if endpoint != "/health" else 0.0
        lines.append(
            f'http_requests_total{{method="GET",endpoint="{endpoint}",status_code="200"}} {total - errors:.3f}'
        )
        lines.append(f'http_requests_total{{method="GET",endpoint="{endpoint}",status_code="500"}} {errors:.3f}')
        lines.append(f'http_errors_total{{method="GET",endpoint="{endpoint}",status_code="500"}} {errors:.3f}')
        for bound, share in LATENCY_CDF.items():
            lines.append(
                f'http_request_duration_seconds_bucket{{method="GET",endpoint="{endpoint}",le="{bound}"}} '
                f"{total * share:.3f}"
            )
        lines.append(f'http_request_duration_seconds_sum{{method="GET",endpoint="{endpoint}"}} {total * 0.04:.3f}')
        lines.append(f'http_request_duration_seconds_count{{method="GET",endpoint="{endpoint}"}} {total:.3f}')
    lines += [
        'http_requests_in_progress{method="GET",endpoint="/api/v1/screen"} 3',
        "db_connections_active 4",
        "db_connections_idle 16",
        'db_query_errors_total{operation="select",error_type="timeout"} 0',
        'db_slow_queries_total{operation="select",table="stocks"} 0',
        f'cache_operations_total{{operation="get",result="hit"}} {elapsed * 90:.3f}',
        f'cache_operations_total{{operation="get",result="miss"}} {elapsed * 10:.3f}',
        "cache_hit_ratio 0.9",
        f'screening_requests_total{{template="value"}} {elapsed * 2:.3f}',
        "active_users_current 25",
        'app_info{name="screener-backend",version="1.4.2",environment="lab"} 1',
    ]
    return lines


def _postgres(elapsed: float) -> list[str]:
    return [
        "pg_up 1",
        "pg_settings_max_connections 100",
        'pg_stat_activity_count{datname="screener",state="active"} 8',
        'pg_stat_activity_count{datname="screener",state="idle"} 12',
        'pg_stat_database_deadlocks{datname="screener"} 0',
        f'pg_stat_database_xact_commit{{datname="screener"}} {elapsed * 50:.3f}',
        'pg_stat_database_xact_rollback{datname="screener"} 0',
        "pg_replication_is_replica 0",
    ]


def _redis(elapsed: float) -> list[str]:
    return [
        "redis_up 1",
        "redis_memory_used_bytes 104857600",
        "redis_memory_max_bytes 1073741824",
        "redis_evicted_keys_total 0",
        f"redis_keyspace_hits_total {elapsed * 90:.3f}",
        f"redis_keyspace_misses_total {elapsed * 10:.3f}",
        "redis_connected_clients 12",
    ]


def _nginx(elapsed: float) -> list[str]:
    return [
        "nginx_up 1",
        "nginx_connections_active 20",
        f"nginx_http_requests_total {elapsed * REQUESTS_PER_SECOND:.3f}",
    ]


def _celery(elapsed: float) -> list[str]:
    return [
        'celery_worker_up{hostname="worker-1"} 1',
        'celery_queue_length{queue_name="celery"} 2',
        'celery_active_worker_count{queue_name="celery"} 1',
        f'celery_task_succeeded_total{{name="refresh_prices"}} {elapsed * 1:.3f}',
        'celery_task_failed_total{name="refresh_prices",exception="none"} 0',
        f'celery_task_received_total{{name="refresh_prices"}} {elapsed * 1:.3f}',
    ]


def _airflow(elapsed: float) -> list[str]:
    # No `airflow_dagrun_duration_failed` series: statsd_exporter creates it
    # at the first failed DAG run, and a healthy lab has none.
    return [
        f"airflow_scheduler_heartbeat {elapsed * 0.2:.3f}",
        "airflow_dag_processing_import_errors 0",
        "airflow_executor_open_slots 16",
    ]


SERIES: dict[str, Callable[[float], list[str]]] = {
    "api": _api,
    "postgres": _postgres,
    "redis": _redis,
    "nginx": _nginx,
    "celery": _celery,
    "airflow": _airflow,
}


class LabExporter:
    """Serves `/metrics/<service>` for every scraped service of the catalog on 127.0.0.1."""

    def __init__(self, settings: StackInput) -> None:
        self.kinds = {s.name: s.kind for s in settings.services if s.scrape and s.kind in SERIES}
        self.down: set[str] = set()
        self.started = time.monotonic()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service = self.path.removeprefix("/metrics/")
                if service not in exporter.kinds:
                    self.send_error(404)
                    return
                if service in exporter.down:
                    self.send_error(503, "injected fault")
                    return
                body = "\n".join(SERIES[exporter.kinds[service]](time.monotonic() - exporter.started)) + "\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="lab-exporter", daemon=True)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.kinds)

    def start(self) -> None:
        self.thread.start()

    def set_down(self, service: str) -> None:
        self.down.add(service)

    def set_up(self, service: str) -> None:
        self.down.discard(service)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
