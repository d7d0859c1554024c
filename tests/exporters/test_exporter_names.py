"""The metric catalog against the real exporters, and the collector's keep-lists against the real Prometheus.

Rules and dashboards may only name catalog series (tests/alerting,
tests/grafana); here the catalog meets what Debian's exporters really emit:
PostgreSQL + postgres_exporter, redis-server + redis_exporter, nginx
`stub_status` + nginx-prometheus-exporter, and node_exporter, all on
loopback (tests/exporters/lab.py). Then Debian's Prometheus scrapes them with
the stacks' rendered jobs (tests/exporters/scrape_lab.py) and the catalog
series must arrive, with their `service` and `env` labels, and nothing else.

Sources without a Debian package stay unproven here: see UNPROVEN_SOURCES.
Needs the packages `make tools` installs; about 10 s.

Debian (bookworm) versus the charts pinned in infra/collection/charts.py:
postgres_exporter 0.11.1 vs 0.20 (chart 8.2.0): same names for every catalog
series except the two replication gauges 0.11 lacks (ABSENT_IN_LAB); 0.20
drops the `server` label and adds usename/application_name/backend_type/wait_*
to pg_stat_activity_count (rules sum by service/state: unaffected).
redis_exporter 1.45 vs 1.89 (chart 6.29.0), nginx-prometheus-exporter 0.11 vs
1.5.3 (chart 1.23.1), node_exporter 1.5 vs 1.12.1 (chart 4.56.1): the catalog's
names are unchanged across these (nginx: collector/nginx.go at v1.5.3 names the
same seven series as v1.4.2; node_exporter's CHANGELOG 1.9.1..1.12.1 renames none
of the catalog's, it only adds erofs to the file systems left out). Prometheus 2.42 vs the agent's v3: same
relabelling semantics (anchored RE2 on __name__) and remote-storage names.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from infra.metrics import SCRAPED_BY_SOURCE, scraped_series_names
from lab.processes import LOOPBACK, free_port, http_get
from tests.exporters.lab import (
    RunningExporter,
    missing_programs,
    running_exporters,
    running_prometheus,
    series_names,
)
from tests.exporters.scrape_lab import (
    LAB_RULES,
    RECEIVER_CONFIG,
    RECEIVER_FLAGS,
    LabJob,
    lab_jobs,
    lab_prometheus_config,
)

pytestmark = pytest.mark.exporters

EXPORTER_SOURCES = ("postgres_exporter", "redis_exporter", "nginx-prometheus-exporter", "node_exporter")
# Catalog sources this module cannot run, and why; a new catalog source must be added to one list or the other.
UNPROVEN_SOURCES = {
    "application": "the screener backend is not part of this repository (its contract: shared backend-metrics.md)",
    "celery-exporter": "no Debian package of a Celery exporter",
    "statsd_exporter": "no Debian package of statsd_exporter (the mapping is tested in tests/collection)",
    "kube-state-metrics": "needs a Kubernetes API server",
    "kubelet": "needs a kubelet",
    "cadvisor": "needs a kubelet (cAdvisor is built into it)",
}

# Catalog series the lab's exporters do not emit, each with the reason. A name
# here must really be absent (test_allowlisted_series_are_really_absent), so
# the list shrinks when the lab or Debian's exporter can show it.
ABSENT_IN_LAB: dict[str, dict[str, str]] = {
    "postgres_exporter": {
        # Debian ships postgres_exporter 0.11.1; the `replication` collector that emits these
        # two on every server (0 on a primary) came in 0.13 (2023). The chart we pin
        # (prometheus-postgres-exporter 8.2.0) runs 0.20, whose collector/pg_replication.go
        # names them `pg_replication_lag_seconds` and `pg_replication_is_replica`.
        "pg_replication_lag_seconds": "Debian's 0.11.1 predates the replication collector (0.13+)",
        "pg_replication_is_replica": "Debian's 0.11.1 predates the replication collector (0.13+)",
    },
}

# What Prometheus itself adds to every target's series; no keep-list applies to these.
SCRAPE_GENERATED = frozenset(
    {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"}
    | {"scrape_series_added"}
)
# The `service` and `env` labels each lab job must attach (from the stack files' service names).
EXPECTED_LABELS = {
    "postgres_exporter": ("postgres", "dev"),
    "redis_exporter": ("redis", "dev"),
    "nginx-prometheus-exporter": ("nginx", "dev"),
    "node_exporter": ("node-exporter", "staging"),
    "collector": ("collector", "staging"),
}
SCRAPES_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Lab:
    exporters: dict[str, RunningExporter]
    emitted: dict[str, frozenset[str]]  # series names each exporter wrote on its /metrics


@dataclass(frozen=True)
class Stored:
    """What Prometheus stored, by lab job: series names and each series' labels."""

    jobs: dict[str, LabJob]  # by catalog source
    series: dict[str, list[dict[str, str]]]  # by job name
    emitted_by_prometheus: frozenset[str]  # the lab Prometheus's own /metrics


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    missing = missing_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}: run `make tools` (Debian packages)")
    with running_exporters() as exporters:
        emitted = {source: series_names(http_get(exporter.url)) for source, exporter in exporters.items()}
        yield Lab(exporters, emitted)


def _query(base: str, path: str, **params: str) -> list[Any]:
    body = json.loads(http_get(f"{base}{path}?{urllib.parse.urlencode(params)}"))
    assert body["status"] == "success", body
    data = body["data"]
    return list(data["result"] if isinstance(data, dict) else data)


def _wait_for_scrapes(base: str, jobs: list[LabJob]) -> None:
    """Until every lab job was scraped twice and the agent's self-scrape stored every collector series.

    The remote write's sent timestamp exists only once a send succeeded, so it
    comes a little later than the rest. Bounded: past the deadline, a job not
    scraped twice fails here (with the targets' errors); a collector series still
    missing fails the test that looks for it, by name.
    """
    deadline = time.monotonic() + SCRAPES_TIMEOUT_SECONDS
    collector = scraped_series_names("collector")
    while True:
        results = _query(base, "/api/v1/query", query="count_over_time(up[1m])")
        scrapes = {result["metric"]["job"]: float(result["value"][1]) for result in results}
        scraped_twice = all(scrapes.get(job.job, 0) >= 2 for job in jobs)
        stored = _query(base, "/api/v1/query", query='count by (__name__) ({job="collector"})')
        if scraped_twice and collector <= {result["metric"]["__name__"] for result in stored}:
            return
        if time.monotonic() > deadline:
            if scraped_twice:
                return
            targets = json.loads(http_get(f"{base}/api/v1/targets?state=active"))["data"]["activeTargets"]
            errors = {target["labels"]["job"]: target["lastError"] for target in targets if target["lastError"]}
            raise AssertionError(f"not every job scraped twice in {SCRAPES_TIMEOUT_SECONDS:.0f} s: {scrapes}; {errors}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stored(lab: Lab) -> Iterator[Stored]:
    addresses = {source: exporter.address for source, exporter in lab.exporters.items()}
    prometheus_address = f"{LOOPBACK}:{free_port()}"
    addresses["collector"] = prometheus_address  # the agent's job scrapes the agent itself
    jobs = lab_jobs(addresses)
    receiver_address = f"{LOOPBACK}:{free_port()}"
    config = lab_prometheus_config(jobs, f"http://{receiver_address}/api/v1/write")
    with (
        running_prometheus(RECEIVER_CONFIG, receiver_address, flags=RECEIVER_FLAGS),
        running_prometheus(config, prometheus_address, LAB_RULES) as base,
    ):
        _wait_for_scrapes(base, jobs)
        up = {result["metric"]["job"]: result["value"][1] for result in _query(base, "/api/v1/query", query="up")}
        assert all(up.get(job.job) == "1" for job in jobs), f"a lab target is down: {up}"
        series: dict[str, list[dict[str, str]]] = {job.job: [] for job in jobs}
        start = str(time.time() - 120)
        for labels in _query(base, "/api/v1/series", **{"match[]": '{job=~".+"}', "start": start}):
            series[str(labels["job"])].append({str(k): str(v) for k, v in labels.items()})
        own = series_names(http_get(f"{base}/metrics"))
        yield Stored({job.source: job for job in jobs}, series, own)


def test_every_catalog_source_is_proven_here_or_listed_as_unproven_with_a_reason() -> None:
    proven = {*EXPORTER_SOURCES, "collector"}
    assert set(SCRAPED_BY_SOURCE) == proven | set(UNPROVEN_SOURCES)
    assert not proven & set(UNPROVEN_SOURCES)


def test_allowlist_names_only_catalog_series_of_its_source() -> None:
    for source, absent in ABSENT_IN_LAB.items():
        assert set(absent) <= scraped_series_names(source), source
        assert all(reason.strip() for reason in absent.values())


@pytest.mark.parametrize("source", EXPORTER_SOURCES)
def test_real_exporter_emits_every_catalog_series_of_its_source(lab: Lab, source: str) -> None:
    expected = scraped_series_names(source) - set(ABSENT_IN_LAB.get(source, {}))
    missing = sorted(expected - lab.emitted[source])
    assert not missing, f"{lab.exporters[source].version} does not emit {missing}: fix infra/metrics.py"


@pytest.mark.parametrize("source", sorted(ABSENT_IN_LAB))
def test_allowlisted_series_are_really_absent(lab: Lab, source: str) -> None:
    present = sorted(set(ABSENT_IN_LAB[source]) & lab.emitted[source])
    assert not present, f"{source} does emit {present}: drop them from ABSENT_IN_LAB"


def test_real_prometheus_emits_every_catalog_series_of_the_collector(stored: Stored) -> None:
    missing = sorted(scraped_series_names("collector") - stored.emitted_by_prometheus)
    assert not missing, f"Debian's Prometheus does not emit {missing}"


@pytest.mark.parametrize("source", [*EXPORTER_SOURCES, "collector"])
def test_keep_list_delivers_the_catalog_series_and_nothing_else(lab: Lab, stored: Stored, source: str) -> None:
    job = stored.jobs[source]
    emitted = stored.emitted_by_prometheus if source == "collector" else lab.emitted[source]
    arrived = {labels["__name__"] for labels in stored.series[job.job]} - SCRAPE_GENERATED
    expected = scraped_series_names(source) & emitted
    dropped, let_through = sorted(expected - arrived), sorted(arrived - expected)
    assert (dropped, let_through) == ([], []), f"{job.job}: keep-list dropped {dropped}, let through {let_through}"
    # The keep-list did drop something: every one of these exporters writes more than we keep.
    assert emitted - arrived


@pytest.mark.parametrize("source", [*EXPORTER_SOURCES, "collector"])
def test_every_stored_series_carries_the_service_and_env_of_its_job(stored: Stored, source: str) -> None:
    job = stored.jobs[source]
    service, env = EXPECTED_LABELS[source]
    labelled = {(labels.get("service"), labels.get("env")) for labels in stored.series[job.job]}
    assert labelled == {(service, env)}


def test_kubernetes_relabelling_attaches_the_pod_and_namespace_it_discovered(stored: Stored) -> None:
    series = stored.series[stored.jobs["node_exporter"].job]
    assert {(labels.get("namespace"), labels.get("pod")) for labels in series} == {("monitoring", "lab-0")}
