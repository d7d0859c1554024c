"""Every pinned version exists in its publisher's own release history, as recorded in a reviewed table.

A Helm chart version, image tag or Grafana plugin version that was never
published passes every mock and fails the first real `pulumi up`
(`prometheus-redis-exporter` 6.30.1 was such a pin). Each row below names
where the version was found; the test fails when the program pins anything
the table does not list, so a bump must come with its evidence.

How the rows were verified (2026-11-29, from each publisher's repository; the Helm chart rows again
2026-12-06, when every chart moved to its newest major: prometheus 27.19.0 -> 29.27.0, kube-state-metrics
5.33.0 -> 8.4.0, prometheus-node-exporter 4.45.3 -> 4.56.1, prometheus-nginx-exporter 1.11.6 -> 1.23.1,
prometheus-statsd-exporter 0.13.1 -> 1.0.0; postgres 8.2.0 and redis 6.29.0 were already the newest tags):
- Helm charts: prometheus-community/helm-charts publishes each chart version
  with chart-releaser, which tags the release `<chart>-<version>`; the tag
  exists, it is the highest `<chart>-*` tag of the snapshot read (main at
  cf408a290aec489277a94450bb3511432477a53a, 2026-08-22), and `charts/<chart>/Chart.yaml`
  at that commit carries the version. The values keys the program sets are checked
  against each version's templates in tests/collection/test_chart_values.py.
- celery-exporter: danihodovic/celery-exporter's workflow
  `.github/workflows/push-image-ghcr.yml` pushes ghcr.io/danihodovic/celery-exporter
  with tag `{{version}}` for every git tag `vX.Y.Z` (docker/metadata-action,
  type=semver), for linux/amd64 and linux/arm64; tag v0.12.2 exists.
- The AMP data-source plugin: grafana/grafana-amazonprometheus-datasource
  tags each release `vX.Y.Z` (CHANGELOG.md, package.json `version`).
- aws-for-fluent-bit (the log collector, infra/logs/fluent_bit.py): aws/eks-charts tags no chart
  releases; it publishes each packaged chart on its gh-pages branch (https://aws.github.io/eks-charts):
  `aws-for-fluent-bit-0.2.0.tgz` was added there by the commit below, and index.yaml lists it
  (appVersion 3.2.1); master's commit 2942cdc bumped stable/aws-for-fluent-bit/Chart.yaml to 0.2.0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra.collection import celery_exporter, charts
from infra.components.grafana_datasource import AMP_PLUGIN
from infra.config.grafana import GrafanaSpec
from infra.config.stackfile import stack_settings
from infra.logs import fluent_bit
from tests.conftest import STACKS

HELM_CHARTS = "https://github.com/prometheus-community/helm-charts/releases/tag/"


@dataclass(frozen=True)
class Published:
    kind: str  # helm chart | image | grafana plugin
    name: str
    version: str
    evidence: str  # the publisher's release or tag
    commit: str  # what the tag points at
    date: str


PUBLISHED = (
    Published(
        "helm chart",
        "prometheus",
        "29.27.0",
        HELM_CHARTS + "prometheus-29.27.0",
        "ca06aaef8a20ca639f06523f467cb0ef8a114feb",
        "2026-08-18",
    ),
    Published(
        "helm chart",
        "kube-state-metrics",
        "8.4.0",
        HELM_CHARTS + "kube-state-metrics-8.4.0",
        "1982f1c5828920f5d4ea5d04956169e81f8c5129",
        "2026-08-18",
    ),
    Published(
        "helm chart",
        "prometheus-node-exporter",
        "4.56.1",
        HELM_CHARTS + "prometheus-node-exporter-4.56.1",
        "8b8e639cac80a3001412f187060068978f649a55",
        "2026-07-14",
    ),
    Published(
        "helm chart",
        "prometheus-postgres-exporter",
        "8.2.0",
        HELM_CHARTS + "prometheus-postgres-exporter-8.2.0",
        "e759e9aae1eb8efac58e3ad4f8744314ba65204e",
        "2026-07-14",
    ),
    # 6.30.1 was pinned before: no such tag or Chart.yaml version exists; 6.29.0 is the newest release.
    Published(
        "helm chart",
        "prometheus-redis-exporter",
        "6.29.0",
        HELM_CHARTS + "prometheus-redis-exporter-6.29.0",
        "4cb96d5c50654923890a17caedcbb82d3717b433",
        "2026-08-09",
    ),
    Published(
        "helm chart",
        "prometheus-nginx-exporter",
        "1.23.1",
        HELM_CHARTS + "prometheus-nginx-exporter-1.23.1",
        "7b70fafdf47959493d762d0fbebc209dbd4cf99a",
        "2026-08-14",
    ),
    Published(
        "helm chart",
        "prometheus-statsd-exporter",
        "1.0.0",
        HELM_CHARTS + "prometheus-statsd-exporter-1.0.0",
        "50bfbd494426782d8b90e7074c56e5ba7e0fbf54",
        "2025-10-06",
    ),
    Published(
        "image",
        "ghcr.io/danihodovic/celery-exporter",
        "0.12.2",
        "https://github.com/danihodovic/celery-exporter/releases/tag/v0.12.2",
        "219ab3a1ce501b7153eb9825caa4558c0a74bc45",
        "2025-07-15",
    ),
    Published(
        "helm chart",
        "aws-for-fluent-bit",
        "0.2.0",
        "https://github.com/aws/eks-charts/blob/gh-pages/aws-for-fluent-bit-0.2.0.tgz",
        "778ffab66a8c3ee60509bb7e175d449f358645ad",
        "2026-02-03",
    ),
    # 3.3.5 was the default before: the plugin's tags end at v3.2.0.
    Published(
        "grafana plugin",
        AMP_PLUGIN,
        "3.2.0",
        "https://github.com/grafana/grafana-amazonprometheus-datasource/releases/tag/v3.2.0",
        "d2a53092ed8917eee31c3251d819c50e82106226",
        "2026-07-30",
    ),
)

Pin = tuple[str, str, str]


def pinned_by_the_program() -> set[Pin]:
    """Every version the program can install: chart pins, the image, the plugin (default and stack files)."""
    pins: set[Pin] = {
        ("helm chart", pin.chart, pin.version) for pin in vars(charts).values() if isinstance(pin, charts.ChartPin)
    }
    pins.add(("helm chart", fluent_bit.FLUENT_BIT.chart, fluent_bit.FLUENT_BIT.version))
    image, tag = celery_exporter.IMAGE.rsplit(":", 1)
    pins.add(("image", image, tag))
    default_plugin = GrafanaSpec.model_fields["amp_plugin_version"].default
    pins.add(("grafana plugin", AMP_PLUGIN, default_plugin))
    pins |= {("grafana plugin", AMP_PLUGIN, stack_settings(stack).grafana.amp_plugin_version) for stack in STACKS}
    return pins


def unverified(pins: Iterable[Pin]) -> list[Pin]:
    verified = {(row.kind, row.name, row.version) for row in PUBLISHED}
    return sorted(set(pins) - verified)


def test_every_pin_the_program_uses_is_in_the_verified_table() -> None:
    pins = pinned_by_the_program()
    assert len({name for kind, name, _ in pins if kind == "helm chart"}) == 8  # every ChartPin was found
    assert unverified(pins) == []


def test_the_table_has_no_row_the_program_no_longer_pins() -> None:
    pins = pinned_by_the_program()
    assert [row for row in PUBLISHED if (row.kind, row.name, row.version) not in pins] == []


def test_a_pin_that_was_never_published_is_caught() -> None:
    planted = (pinned_by_the_program() - {("helm chart", "prometheus-redis-exporter", "6.29.0")}) | {
        ("helm chart", "prometheus-redis-exporter", "6.30.1")
    }
    assert unverified(planted) == [("helm chart", "prometheus-redis-exporter", "6.30.1")]


def test_every_row_cites_a_tag_at_a_full_commit() -> None:
    for row in PUBLISHED:
        assert row.evidence.startswith("https://github.com/") and row.version in row.evidence, row
        assert len(row.commit) == 40 and int(row.commit, 16) >= 0, row
