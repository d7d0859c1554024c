"""Cache: hit ratio, operations by type and result, latency, and Redis memory and evictions."""

from __future__ import annotations

from typing import Any

from dashboards.common import (
    APP,
    ENV,
    RATE,
    Rows,
    above,
    below,
    dashboard,
    quantile,
    query,
    service_variable,
    stat,
    timeseries,
)
from dashboards.context import DashboardContext

SLUG = "cache"
TITLE = "Cache"
DESCRIPTION = "Application cache (hit ratio, latency) and Redis through redis_exporter."

# Same shape as the CacheHitRatioLow alert: 1 - misses / lookups, so a cache
# that never hits still shows 0 rather than no data.
_MISSES = f'cache_operations_total{{{APP}, operation="get", result="miss"}}'
_LOOKUPS = f'cache_operations_total{{{APP}, operation="get", result=~"hit|miss"}}'
_HIT_RATIO_10M = f"1 - sum(rate({_MISSES}[10m])) / sum(rate({_LOOKUPS}[10m]))"
_EVICTIONS = f"sum(rate(redis_evicted_keys_total{{{ENV}}}[{RATE}]))"
_REDIS_MEMORY_RATIO = f"redis_memory_used_bytes{{{ENV}}} / (redis_memory_max_bytes{{{ENV}}} > 0)"


def build(ctx: DashboardContext) -> dict[str, Any]:
    t = ctx.thresholds
    hit_floor = t.cache_hit_ratio_percent / 100
    memory_ceiling = t.redis_memory_percent / 100
    # At 0 the alert fires on any eviction; a red step at 0 would paint the quiet state red too, so none.
    evictions_alert = above(None, t.redis_evictions_per_second) if t.redis_evictions_per_second > 0 else None
    service = service_variable("cache_operations_total", ctx.services_of("api"))
    rows: Rows = {
        "Overview": [
            stat(
                "Hit ratio (10 min)",
                f"Share of cache reads that hit, from the counters over 10 minutes as the alert computes it; "
                f"the alert fires below {t.cache_hit_ratio_percent:g} %.",
                "percentunit",
                query(_HIT_RATIO_10M, instant=True),
                thresholds=below(hit_floor, min(hit_floor + 0.1, 0.99)),
            ),
            stat(
                "Redis memory of maxmemory",
                f"Used memory over maxmemory (no value when maxmemory is unlimited); the alert fires above "
                f"{t.redis_memory_percent:g} %.",
                "percentunit",
                query(f"max({_REDIS_MEMORY_RATIO})", instant=True),
                thresholds=above(memory_ceiling * 0.9, memory_ceiling),
            ),
            stat(
                "Evictions per second",
                f"Keys Redis evicts to stay under maxmemory; the alert fires above {t.redis_evictions_per_second:g}/s.",
                "short",
                query(_EVICTIONS, instant=True),
                thresholds=evictions_alert,
            ),
            stat(
                "Redis up",
                "1 when redis_exporter reaches Redis.",
                "bool",
                query(f"min(redis_up{{{ENV}}})", instant=True),
            ),
        ],
        "Application cache": [
            timeseries(
                "Hit ratio",
                "Hit ratio from the counters (10 min) and as computed in-process by the app; dashed line at the "
                "alert threshold.",
                "percentunit",
                query(_HIT_RATIO_10M, "counters (10m)"),
                query(f"avg(cache_hit_ratio{{{APP}}})", "in-process"),
                thresholds=below(hit_floor),
                min_value=0,
                max_value=1,
            ),
            timeseries(
                "Operations by type and result",
                "Cache operations per second by operation (get/set/delete) and result (hit/miss/error).",
                "ops",
                query(
                    f"sum by (operation, result) (rate(cache_operations_total{{{APP}}}[{RATE}]))",
                    "{{operation}} {{result}}",
                ),
                stacked=True,
                min_value=0,
            ),
            timeseries(
                "Operation latency p95 / p99",
                "Cache operation duration percentiles by operation.",
                "s",
                query(quantile(0.95, "cache_operation_duration_seconds", by="operation"), "p95 {{operation}}"),
                query(quantile(0.99, "cache_operation_duration_seconds", by="operation"), "p99 {{operation}}"),
                min_value=0,
            ),
            timeseries(
                "Cache errors",
                "Cache operations that failed (Redis unreachable, timeouts) per second.",
                "ops",
                query(
                    f'sum by (operation) (rate(cache_operations_total{{{APP}, result="error"}}[{RATE}]))',
                    "{{operation}}",
                ),
                min_value=0,
            ),
        ],
        "Redis": [
            timeseries(
                "Redis memory",
                "Memory used by Redis, its maxmemory, and the memory the app reports for the cache.",
                "bytes",
                query(f"sum by (instance) (redis_memory_used_bytes{{{ENV}}})", "used {{instance}}"),
                query(f"max by (instance) (redis_memory_max_bytes{{{ENV}}} > 0)", "maxmemory {{instance}}"),
                query(f"max(cache_memory_usage_bytes{{{APP}}})", "as the app sees it"),
                min_value=0,
            ),
            timeseries(
                "Evictions and expirations",
                "Keys evicted under memory pressure and keys expired by TTL, per second.",
                "short",
                query(_EVICTIONS, "evicted"),
                query(f"sum(rate(redis_expired_keys_total{{{ENV}}}[{RATE}]))", "expired"),
                thresholds=evictions_alert,
                min_value=0,
            ),
            timeseries(
                "Redis keyspace hit ratio",
                "Hits over lookups as Redis counts them (all clients, not only the API).",
                "percentunit",
                query(
                    f"sum(rate(redis_keyspace_hits_total{{{ENV}}}[{RATE}])) / "
                    f"(sum(rate(redis_keyspace_hits_total{{{ENV}}}[{RATE}])) "
                    f"+ sum(rate(redis_keyspace_misses_total{{{ENV}}}[{RATE}])))",
                    "keyspace",
                ),
                min_value=0,
                max_value=1,
            ),
            timeseries(
                "Clients and commands",
                "Connected clients and commands processed per second.",
                "short",
                query(f"sum(redis_connected_clients{{{ENV}}})", "clients"),
                query(f"sum(rate(redis_commands_processed_total{{{ENV}}}[{RATE}]))", "commands/s"),
                min_value=0,
            ),
        ],
    }
    return dashboard(ctx, SLUG, TITLE, DESCRIPTION, rows, service=service)
