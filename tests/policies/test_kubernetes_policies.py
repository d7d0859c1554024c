"""Kubernetes workload policies: each against a violating and a compliant resource."""

from __future__ import annotations

from typing import Any

import pytest
from screener_policies.kubernetes import container_image_pinned

from tests.policies.support import args, messages

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def deployment(*images: str, init: str | None = None) -> Any:
    pod: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}
    if init is not None:
        pod["initContainers"] = [{"name": "init", "image": init}]
    return args(DEPLOYMENT, {"spec": {"template": {"spec": pod}}}, name="exporter")


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/danihodovic/celery-exporter:0.12.2",
        "quay.io/prometheus/node-exporter:v1.8.2",
        "registry.internal:5000/team/app:1.2.3-alpine",
        f"danihodovic/celery-exporter@{DIGEST}",
        f"danihodovic/celery-exporter:latest@{DIGEST}",
    ],
)
def test_image_with_an_exact_release_tag_or_a_digest_passes(image: str) -> None:
    assert messages(container_image_pinned, deployment(image)) == []


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("ghcr.io/danihodovic/celery-exporter:latest", "uses the moving tag 'latest'"),
        ("ghcr.io/danihodovic/celery-exporter:0.12", "uses the moving tag '0.12'"),
        ("registry.internal:5000/team/app", "has no tag"),
        ("danihodovic/celery-exporter", "has no tag"),
    ],
)
def test_image_on_a_moving_tag_is_refused_with_the_fix(image: str, reason: str) -> None:
    (message,) = messages(container_image_pinned, deployment(image))
    assert message.startswith(f"Deployment 'exporter' container 'c0' image '{image}' {reason}")
    assert message.endswith("Fix: pin an exact release tag (1.2.3) or a digest (@sha256:...).")


def test_every_container_is_checked_init_containers_too() -> None:
    found = messages(container_image_pinned, deployment("app:1.0.0", "sidecar:edge", init="busybox"))
    assert [m.split(" image ")[0] for m in found] == [
        "Deployment 'exporter' container 'init'",
        "Deployment 'exporter' container 'c1'",
    ]


def test_cronjob_pod_template_is_found_under_its_job_template() -> None:
    props = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "y"}]}}}}}}
    (message,) = messages(container_image_pinned, args(CRONJOB, props, name="nightly"))
    assert message.startswith("CronJob 'nightly' container 'x' image 'y' has no tag")


def test_other_resources_are_not_inspected() -> None:
    assert messages(container_image_pinned, args("kubernetes:core/v1:Service", {"spec": {}})) == []
