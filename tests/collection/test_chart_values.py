"""Every Helm values key the collection sets is one the pinned chart version reads.

Helm ignores a values key no template reads: a key renamed in a new major
(the prometheus chart's `nodeExporter` became `prometheus-node-exporter` in
16.0, `pushgateway` became `prometheus-pushgateway` in 17.0) passes every mock
and `helm install` alike, and the old behaviour comes back silently. So each
pin has a reviewed row below: the key paths its templates read, at exactly the
pinned version, each with the template that reads it. A pin bumped without
re-reading its templates fails (the row's version differs), and so does a
values function that sets a key the row does not list.

How the rows were read (2026-12-06): prometheus-community/helm-charts at the
chart-releaser tag `<chart>-<version>` (commits in tests/test_published_pins.py):
`git grep -F '.Values.<key>' <chart>-<version> -- charts/<chart>/templates`
finds each key in the file named; a subchart switch (`<subchart>.enabled`) is
the `condition` of that dependency in `charts/<chart>/Chart.yaml`. Maps and
lists the chart hands to Kubernetes whole (`toYaml`/`with`) are read as one
key: `server.resources`, `serviceAccounts.server.annotations`,
`server.defaultFlagsOverride`. With a helm-charts checkout at hand,
`HELM_CHARTS_CHECKOUT=<path>` makes test_rows_match_a_helm_charts_checkout
re-run that `git grep` for every row.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.collection import charts


@dataclass(frozen=True)
class ChartKeys:
    chart: str
    version: str
    # key path (dot-separated) -> where the chart reads it at that version
    read: Mapping[str, str]
    # key paths handed to Kubernetes whole: their inner keys are the Kubernetes API's, not the chart's
    whole: frozenset[str] = frozenset()


_DEPENDENCY = "Chart.yaml dependencies: condition"
READ_KEYS: dict[str, ChartKeys] = {
    "prometheus": ChartKeys(
        "prometheus",
        "29.27.0",
        {
            "server.defaultFlagsOverride": "templates/deploy.yaml",
            "server.configMapOverrideName": "templates/cm.yaml, templates/deploy.yaml",
            "server.persistentVolume.enabled": "templates/deploy.yaml",
            "server.resources": "templates/deploy.yaml",
            "serviceAccounts.server.create": "templates/_helpers.tpl",
            "serviceAccounts.server.name": "templates/_helpers.tpl",
            "serviceAccounts.server.annotations": "templates/serviceaccount.yaml",
            "alertmanager.enabled": _DEPENDENCY,
            "kube-state-metrics.enabled": _DEPENDENCY,
            "prometheus-node-exporter.enabled": _DEPENDENCY,
            "prometheus-pushgateway.enabled": _DEPENDENCY,
        },
        frozenset({"server.defaultFlagsOverride", "server.resources", "serviceAccounts.server.annotations"}),
    ),
    "kube-state-metrics": ChartKeys(
        "kube-state-metrics",
        "8.4.0",
        {"fullnameOverride": "templates/_helpers.tpl", "service.port": "templates/service.yaml"},
    ),
    "prometheus-node-exporter": ChartKeys(
        "prometheus-node-exporter",
        "4.56.1",
        {
            "fullnameOverride": "templates/_helpers.tpl",
            "service.port": "templates/service.yaml",
            "service.targetPort": "templates/service.yaml",
        },
    ),
    "prometheus-postgres-exporter": ChartKeys(
        "prometheus-postgres-exporter",
        "8.2.0",
        {
            "fullnameOverride": "templates/_helpers.tpl",
            "service.port": "templates/service.yaml",
            "service.targetPort": "templates/deployment.yaml",
            "config.datasourceSecret.name": "templates/deployment.yaml",
            "config.datasourceSecret.key": "templates/deployment.yaml",
        },
    ),
    "prometheus-redis-exporter": ChartKeys(
        "prometheus-redis-exporter",
        "6.29.0",
        {
            "fullnameOverride": "templates/_helpers.tpl",
            "service.port": "templates/service.yaml",
            "redisAddress": "templates/deployment.yaml",
            "auth.enabled": "templates/deployment.yaml",
            "auth.secret.name": "templates/deployment.yaml",
            "auth.secret.key": "templates/deployment.yaml",
        },
    ),
    "prometheus-nginx-exporter": ChartKeys(
        "prometheus-nginx-exporter",
        "1.23.1",
        {
            "fullnameOverride": "templates/_helpers.tpl",
            "service.port": "templates/service.yaml",
            "nginxServer": "templates/deployment.yaml",
        },
    ),
    "prometheus-statsd-exporter": ChartKeys(
        "prometheus-statsd-exporter",
        "1.0.0",
        {
            "fullnameOverride": "templates/_helpers.tpl",
            "service.port": "templates/service.yaml",
            # values.yaml has it only as a comment; templates/configmap.yaml and deployment.yaml read it.
            "statsd.mappingConfig": "templates/configmap.yaml",
        },
    ),
}


def key_paths(values: Mapping[str, Any], whole: frozenset[str], prefix: str = "") -> Iterator[str]:
    """The dot-separated key paths `values` sets: down to a non-mapping value, or a key handed over whole."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and path not in whole:
            yield from key_paths(value, whole, f"{path}.")
        else:
            yield path


def unread_keys(pin: charts.ChartPin, values: Mapping[str, Any]) -> list[str]:
    row = READ_KEYS[pin.chart]
    return sorted(path for path in key_paths(values, row.whole) if path not in row.read)


ROLE = "arn:aws:iam::123456789012:role/collector"
VALUES_OF: dict[str, tuple[charts.ChartPin, dict[str, Any]]] = {
    "agent": (charts.PROMETHEUS, charts.agent_values(ROLE)),
    "kube-state-metrics": (charts.KUBE_STATE_METRICS, charts.kube_state_metrics_values()),
    "node-exporter": (charts.NODE_EXPORTER, charts.node_exporter_values()),
    "postgres": (charts.POSTGRES_EXPORTER, charts.postgres_exporter_values("pg", 9187, "pg-dsn")),
    "redis": (charts.REDIS_EXPORTER, charts.redis_exporter_values("redis", 9121, "redis://r:6379", "redis-pw")),
    "nginx": (charts.NGINX_EXPORTER, charts.nginx_exporter_values("nginx", 9113, "http://nginx/stub_status")),
    "statsd": (charts.STATSD_EXPORTER, charts.statsd_exporter_values("statsd", 9102, "mappings: []\n")),
}


def test_every_pin_has_a_row_read_at_its_version() -> None:
    pins = {pin.chart: pin.version for pin in vars(charts).values() if isinstance(pin, charts.ChartPin)}
    assert {chart: row.version for chart, row in READ_KEYS.items()} == pins


@pytest.mark.parametrize("release", sorted(VALUES_OF))
def test_every_values_key_is_one_the_pinned_chart_reads(release: str) -> None:
    pin, values = VALUES_OF[release]
    assert list(key_paths(values, READ_KEYS[pin.chart].whole)), "no key found: the check would pass vacuously"
    assert unread_keys(pin, values) == []


def test_a_key_renamed_in_an_earlier_major_is_caught() -> None:
    """prometheus chart 16.0 moved `nodeExporter` to the `prometheus-node-exporter` subchart; 17.0 did the
    same to `pushgateway` (charts/prometheus/README.md, "To 16.0", "To 17.0"). Helm ignores the old keys."""
    values = charts.agent_values(ROLE)
    values.pop("prometheus-node-exporter")
    planted = {**values, "nodeExporter": {"enabled": False}, "pushgateway": {"enabled": False}}
    assert unread_keys(charts.PROMETHEUS, planted) == ["nodeExporter.enabled", "pushgateway.enabled"]


def test_a_bump_without_a_re_read_row_is_caught() -> None:
    bumped = charts.ChartPin("kube-state-metrics", "9.0.0")
    assert READ_KEYS[bumped.chart].version != bumped.version


@pytest.mark.skipif(not os.environ.get("HELM_CHARTS_CHECKOUT"), reason="needs HELM_CHARTS_CHECKOUT (a git checkout)")
def test_rows_match_a_helm_charts_checkout() -> None:
    checkout = os.environ["HELM_CHARTS_CHECKOUT"]
    missing = []
    for row in READ_KEYS.values():
        tag = f"{row.chart}-{row.version}"
        for key, where in row.read.items():
            if where == _DEPENDENCY:
                needle, path = f"condition: {key}", f"charts/{row.chart}/Chart.yaml"
            else:
                needle, path = f".Values.{key}", f"charts/{row.chart}/templates"
            found = subprocess.run(
                ["git", "-C", checkout, "grep", "-q", "-F", needle, tag, "--", path], check=False
            ).returncode
            if found != 0:
                missing.append((tag, key))
    assert missing == []


RENOVATE = "# renovate: datasource=helm depName={chart} registryUrl={repo}"


def renovate_misses(source: str) -> list[str]:
    """The `ChartPin(...)` constants whose line above is not the Renovate comment naming that chart and repo."""
    lines = source.splitlines()
    pins = {pin.chart: pin for pin in vars(charts).values() if isinstance(pin, charts.ChartPin)}
    missing = []
    for index, line in enumerate(lines):
        if " = ChartPin(" not in line:
            continue
        chart = line.split('ChartPin("', 1)[1].split('"', 1)[0]
        expected = RENOVATE.format(chart=chart, repo=pins[chart].repo)
        if index == 0 or lines[index - 1] != expected:
            missing.append(chart)
    return missing


def test_each_chart_pin_carries_the_renovate_comment_directly_above() -> None:
    """The regex manager reads `# renovate: datasource=helm depName=<chart> registryUrl=<repo>` on the line
    directly above each `ChartPin(...)` constant; a pin without it is invisible to the update bot."""
    source = Path(charts.__file__).read_text()
    assert source.count(" = ChartPin(") == len(READ_KEYS)
    assert renovate_misses(source) == []
    planted = source.replace("# renovate: datasource=helm depName=kube-state-metrics ", "# renovate: depName=x ")
    assert renovate_misses(planted) == ["kube-state-metrics"]
