"""Policies on Kubernetes workloads the program declares directly (not through a Helm chart)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from screener_policies.common import as_list, dig, is_mapping, validation

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# An exact release, optionally with a build suffix (1.2.3, v1.2.3, 1.2.3-alpine); `1.2` still moves.
_EXACT_TAG = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


def _tag(image: str) -> str | None:
    """The tag of an image reference; a registry's `host:port/` is not a tag."""
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _unpinned_reason(image: str) -> str | None:
    if _DIGEST.search(image):
        return None
    tag = _tag(image)
    if tag is None:
        return "has no tag (the registry serves whatever `latest` is)"
    if not _EXACT_TAG.match(tag):
        return f"uses the moving tag '{tag}'"
    return None


@validation
def container_image_pinned(args: ResourceValidationArgs) -> Iterator[str]:
    path = POD_SPEC_PATHS.get(args.resource_type)
    if path is None:
        return
    pod: Any = dig(args.props, *path)
    for field in _CONTAINER_LISTS:
        for container in as_list(dig(pod, field)):
            if not is_mapping(container):
                continue
            image = str(container.get("image") or "")
            reason = _unpinned_reason(image)
            if reason is not None:
                yield (
                    f"{args.resource_type.split(':')[-1]} '{args.name}' container '{container.get('name')}' image "
                    f"'{image}' {reason}; a pod rescheduled tomorrow may run different code than today's preview. "
                    "Fix: pin an exact release tag (1.2.3) or a digest (@sha256:...)."
                )


POLICIES = [
    ResourceValidationPolicy(
        name="container-image-pinned",
        description="Workloads declared in code run images pinned to an exact release tag or a digest.",
        validate=container_image_pinned,
    ),
]
