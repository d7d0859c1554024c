"""Availability: every scraped service of the catalog (and the collector) is up and discovered.

`up` is written by whatever scrapes the target, with the `service` label the
scrape attaches. A service with no `up` series at all is as down as one
whose targets fail: discovery lost it, or the collector never saw it.
"""

from __future__ import annotations

from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    expects_series,
    one_group_namespace,
    scraped_services,
    sel,
)
from infra.config import StackInput

NAMESPACE = "availability"
# The `service` label the in-cluster collector's self-scrape carries.
COLLECTOR_SERVICE = "collector"


def monitored_service_names(settings: StackInput) -> tuple[str, ...]:
    """Every service whose targets are scraped: the catalog's, plus the collector when it runs in the cluster."""
    names = [service.name for service in settings.services if service.scrape]
    if settings.collection.mode == "in-cluster":
        names.append(COLLECTOR_SERVICE)
    return tuple(names)


def _service_down(service: str, expect_series: bool) -> list[Rule]:
    up = sel("up", service=service)
    # "None discovered at all" is an absence: only where a collector writes here
    # (on a stack that collects nothing it would page from the first minute).
    nothing_up = f"sum by (service) ({up}) == 0"
    if expect_series:
        nothing_up += f"\nor\nabsent({up})"
    return [
        Alert(
            name="ServiceDown",
            expr=f"count by (service) ({up} == 0) > 0",
            # One replica failing a few scrapes is routine during a rollout.
            for_="10m",
            severity="warning",
            service=service,
            summary="Some scrape targets of a service are down.",
            description="{{ $value }} scrape target(s) of {{ $labels.service }} have failed "
            "their scrapes for 10 minutes.",
        ),
        Alert(
            name="ServiceDown",
            expr=nothing_up,
            # Three scrapes at the slowest interval we run (60 s): a restart passes, an outage pages.
            for_="3m",
            severity="critical",
            service=service,
            summary="A service has no scrape target up, or none is discovered at all.",
            description="No scrape target of {{ $labels.service }} has answered for 3 minutes, "
            "or none is discovered at all.",
        ),
    ]


def _nginx_down(service: str) -> list[Rule]:
    return [
        Alert(
            name="NginxDown",
            expr=f"{sel('nginx_up', service=service)} == 0",
            # The exporter answers but cannot read stub_status: NGINX itself is unreachable.
            for_="2m",
            severity="critical",
            service=service,
            summary="The NGINX exporter cannot reach NGINX.",
            description="nginx-prometheus-exporter on {{ $labels.instance }} cannot read NGINX stub_status "
            "({{ $labels.service }}).",
        )
    ]


def availability_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    rules: list[Rule] = []
    for name in monitored_service_names(settings):
        rules += _service_down(name, expects_series(settings))
    for service in scraped_services(settings, "nginx"):
        rules += _nginx_down(service.name)
    return one_group_namespace(NAMESPACE, rules)
