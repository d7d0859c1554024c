"""Availability: every scraped service of the catalog (and the collector) is up and discovered.

`up` is written by whatever scrapes the target, with the `service` label the
scrape attaches. A service with no `up` series at all is as down as one
whose targets fail: discovery lost it, or the collector never saw it.
One rule per alert and severity covers every service: the catalog is a
recorded series (`service:catalog:info`) the alerts join against, so only
catalog services alert and a missing one is found without a rule of its own.
"""

from __future__ import annotations

from infra.alerting.rule_model import (
    Alert,
    Recording,
    Rule,
    RuleNamespace,
    expects_series,
    labelled_constants,
    one_group_namespace,
    scraped_services,
)
from infra.config import StackInput

NAMESPACE = "availability"
# The `service` label the in-cluster collector's self-scrape carries.
COLLECTOR_SERVICE = "collector"
# One series per monitored service (value 1): the catalog as data.
CATALOG = "service:catalog:info"


def monitored_service_names(settings: StackInput) -> tuple[str, ...]:
    """Every service whose targets are scraped: the catalog's, plus the collector when it runs in the cluster."""
    names = [service.name for service in settings.services if service.scrape]
    if settings.collection.mode == "in-cluster":
        names.append(COLLECTOR_SERVICE)
    return tuple(names)


def catalog_recording(settings: StackInput) -> Recording:
    """Every monitored service as a series: what the catalog says should be scraped, as data rules can join.

    One rule whatever the catalog's size; the alerts below read it in the same
    group (same evaluation), so "the catalog" and "what is up" are compared at
    one instant.
    """
    return Recording(CATALOG, labelled_constants("service", dict.fromkeys(monitored_service_names(settings), 1)))


def _service_down(expect_series: bool) -> list[Rule]:
    catalog = f"on (service) {CATALOG}"
    # "None discovered at all" is an absence: only where a collector writes here
    # (on a stack that collects nothing it would page from the first minute).
    nothing_up = f"sum by (service) (up) == 0\nand {catalog}"
    if expect_series:
        nothing_up += f"\nor\n{CATALOG} unless on (service) up"
    return [
        Alert(
            name="ServiceDown",
            expr=f"count by (service) (up == 0) > 0\nand {catalog}",
            # One replica failing a few scrapes is routine during a rollout.
            for_="10m",
            severity="warning",
            service=None,
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
            service=None,
            summary="A service has no scrape target up, or none is discovered at all.",
            description="No scrape target of {{ $labels.service }} has answered for 3 minutes, "
            "or none is discovered at all.",
        ),
    ]


def _nginx_down() -> list[Rule]:
    return [
        Alert(
            name="NginxDown",
            expr="nginx_up == 0",
            # The exporter answers but cannot read stub_status: NGINX itself is unreachable.
            for_="2m",
            severity="critical",
            service=None,
            summary="The NGINX exporter cannot reach NGINX.",
            description="nginx-prometheus-exporter on {{ $labels.instance }} cannot read NGINX stub_status "
            "({{ $labels.service }}).",
        )
    ]


def availability_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    if not monitored_service_names(settings):
        return ()
    rules: list[Rule] = [catalog_recording(settings), *_service_down(expects_series(settings))]
    if scraped_services(settings, "nginx"):
        rules += _nginx_down()
    return one_group_namespace(NAMESPACE, rules)
