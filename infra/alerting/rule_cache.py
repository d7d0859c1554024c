"""Cache: the application's hit ratio and Redis through redis_exporter."""

from __future__ import annotations

from infra.alerting.rule_model import Alert, Rule, RuleNamespace, dur, num, one_group_namespace, scraped_services, sel
from infra.config import StackInput

NAMESPACE = "cache"


def _app_side(settings: StackInput) -> list[Rule]:
    percent = settings.thresholds.cache_hit_ratio_percent
    misses = sel("cache_operations_total", operation="get", result="miss")
    lookups = sel("cache_operations_total", operation="get", result="~hit|miss")
    lookup_rate = f"sum by (service) (rate({lookups}[{dur('10m')}]))"
    # 1 - misses/lookups rather than hits/lookups: the `hit` series does not
    # exist until the first hit, and a cache that never hits must still alert.
    return [
        Alert(
            name="CacheHitRatioLow",
            expr=f"1 - sum by (service) (rate({misses}[{dur('10m')}])) / {lookup_rate}\n< {num(percent / 100)}\n"
            f"and on (service) {lookup_rate} >= {num(settings.slo.min_requests_per_second)}",
            # A cold cache after a deploy fills within minutes; a quarter of an hour is not a warm-up.
            for_="15m",
            severity="warning",
            service=None,
            summary="The application's cache hit ratio is low.",
            description=f"Only {{{{ $value | humanizePercentage }}}} of cache reads by {{{{ $labels.service }}}} "
            f"hit over the last 10 minutes (threshold {num(percent)}%).",
        )
    ]


def _redis(settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    used = "redis_memory_used_bytes"
    limit = "redis_memory_max_bytes"
    evicted = "redis_evicted_keys_total"
    return [
        Alert(
            name="RedisDown",
            expr="redis_up == 0",
            for_="1m",
            severity="critical",
            service=None,
            summary="redis_exporter cannot reach Redis.",
            description="redis_exporter on {{ $labels.instance }} cannot connect to Redis ({{ $labels.service }}).",
        ),
        Alert(
            name="RedisMemoryNearMax",
            # maxmemory 0 means unlimited: nothing to be near, so no alert.
            expr=f"{used}\n/ ({limit} > 0)\n> {num(thresholds.redis_memory_percent / 100)}",
            for_="5m",
            severity="warning",
            service=None,
            summary="Redis memory is close to maxmemory.",
            description=f"Redis {{{{ $labels.instance }}}} ({{{{ $labels.service }}}}) uses "
            f"{{{{ $value | humanizePercentage }}}} of maxmemory (threshold {num(thresholds.redis_memory_percent)}%).",
        ),
        Alert(
            name="RedisEvictions",
            expr=f"sum by (service) (rate({evicted}[{dur('5m')}])) > {num(thresholds.redis_evictions_per_second)}",
            for_="15m",
            severity="warning",
            service=None,
            summary="Redis evicts keys to stay under maxmemory.",
            description=f"{{{{ $labels.service }}}} evicts {{{{ $value | humanize }}}} keys per second "
            f"(threshold {num(thresholds.redis_evictions_per_second)}).",
        ),
    ]


def cache_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    rules: list[Rule] = []
    if scraped_services(settings, "api"):
        rules += _app_side(settings)
    if scraped_services(settings, "redis"):
        rules += _redis(settings)
    return one_group_namespace(NAMESPACE, rules)
