"""Kubernetes fakes: object metadata and Helm release status as the API server and Helm report them."""

from __future__ import annotations

from typing import Any

from planner.fakes import FakeContext, resource_fake


def _metadata(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", f"{name}-{ctx.token(name, 8)}")
    metadata.update({"uid": ctx.uuid(name), "resourceVersion": str(int(ctx.token(name, 6), 16)), "generation": 1})
    return metadata


@resource_fake("kubernetes:core/v1:Namespace")
def namespace(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = _metadata(ctx, name, inputs)
    return metadata["name"], {"metadata": metadata, "status": {"phase": "Active"}}


@resource_fake("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ServiceAccount")
def namespaced_object(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = _metadata(ctx, name, inputs)
    metadata.setdefault("namespace", "default")
    return f"{metadata['namespace']}/{metadata['name']}", {"metadata": metadata}


@resource_fake("kubernetes:helm.sh/v3:Release")
def helm_release(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    release = inputs.get("name") or f"{name}-{ctx.token(name, 8)}"
    namespace_name = inputs.get("namespace") or "default"
    return f"{namespace_name}/{release}", {
        "name": release,
        "status": {
            "name": release,
            "namespace": namespace_name,
            "chart": inputs.get("chart", ""),
            "version": inputs.get("version", ""),
            "revision": 1,
            "status": "deployed",
        },
    }
