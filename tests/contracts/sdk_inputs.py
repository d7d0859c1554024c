"""Check planned inputs against the provider SDKs' input types: only keys the SDK defines, at every depth.

Mocks accept any input, so a typo in a nested dict (`{"eks": {"cluster_arnn": ...}}`)
plans cleanly and fails only in a real `pulumi up`. The SDKs carry the
provider schema as Python types: each resource `<Name>` has `<Name>Args`, an
`@pulumi.input_type` class whose properties map Python names to the wire
names the engine records (`pulumi._types.input_type_types`), with nested
`...Args` classes, `Sequence[...]` and `Mapping[str, ...]`. A resource type
token is mapped to its class through the SDKs' own registry
(`pulumi.runtime.rpc._RESOURCE_MODULES`, filled by each SDK's
`_utilities.register` on import).

Sources: pulumi (pulumi/_types.py `input_type_types`, pulumi/runtime/rpc.py
`register_resource_module`), pulumi_aws / pulumi_kubernetes /
pulumiverse_grafana / pulumiverse_sentry `_utilities.py` (`Module.mod_info`: fqn and classes by token).
"""

from __future__ import annotations

import collections.abc
import importlib
import typing
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi._types as pulumi_types
import pulumi_aws  # noqa: F401  (registers the aws resource modules)
import pulumi_kubernetes  # noqa: F401
import pulumiverse_grafana  # noqa: F401
import pulumiverse_sentry  # noqa: F401
from pulumi.runtime import rpc

from planner.engine import Plan


@dataclass(frozen=True)
class UnknownKey:
    resource: str  # type token and logical name
    path: str  # where in the inputs, e.g. source.eks.clusterArnn


def _registered_classes() -> dict[str, tuple[str, str]]:
    """Resource type token -> (Python module, class name), from the SDKs' registrations."""
    found: dict[str, tuple[str, str]] = {}
    for modules in rpc._RESOURCE_MODULES.values():
        for module in modules:
            info = getattr(module, "mod_info", None)
            if isinstance(info, dict):
                for token, class_name in info["classes"].items():
                    found[token] = (info["fqn"], class_name)
    for package in rpc._RESOURCE_PACKAGES.values():
        for registered in package:
            info = getattr(registered, "pkg_info", None)
            if isinstance(info, dict):
                found[info["token"]] = (info["fqn"], info["class"])
    return found


REGISTERED = _registered_classes()


def args_class(type_token: str) -> type | None:
    """The SDK's `<Name>Args` input type of a resource type token, or None for a type no SDK defines."""
    located = REGISTERED.get(type_token)
    if located is None:
        return None
    module = importlib.import_module(located[0])
    found = getattr(module, f"{located[1]}Args", None)
    return found if isinstance(found, type) and pulumi_types.is_input_type(found) else None


def _candidates(typ: Any) -> list[Any]:
    """The shapes a declared type admits, with Optional, Input, Awaitable and Output peeled off."""
    origin = typing.get_origin(typ)
    if origin is typing.Union:
        shapes: list[Any] = []
        for arg in typing.get_args(typ):
            shapes.extend(_candidates(arg))
        return shapes
    if typ is type(None) or origin in (collections.abc.Awaitable,) or typ is pulumi.Output:
        return []
    if origin is pulumi.Output:
        return []
    return [typ]


def _walk(value: Any, typ: Any, path: str, found: list[str]) -> None:
    if value is None:
        return
    for shape in _candidates(typ):
        origin = typing.get_origin(shape)
        if isinstance(shape, type) and pulumi_types.is_input_type(shape) and isinstance(value, dict):
            fields = pulumi_types.input_type_types(shape)
            for key, item in value.items():
                if key not in fields:
                    found.append(f"{path}.{key}".lstrip("."))
                else:
                    _walk(item, fields[key], f"{path}.{key}", found)
            return
        if origin in (collections.abc.Sequence, list) and isinstance(value, list):
            (item_type,) = typing.get_args(shape) or (Any,)
            for index, item in enumerate(value):
                _walk(item, item_type, f"{path}[{index}]", found)
            return
        if origin in (collections.abc.Mapping, dict) and isinstance(value, dict):
            args = typing.get_args(shape)
            item_type = args[1] if len(args) == 2 else Any
            for key, item in value.items():
                _walk(item, item_type, f"{path}[{key!r}]", found)
            return
    # A scalar, Any, a JSON string or a free-form map: no schema below this point.


def unknown_keys(resource_type: str, name: str, inputs: dict[str, Any]) -> list[UnknownKey]:
    """Every input key (at any depth) of one resource that its SDK input type does not define."""
    cls = args_class(resource_type)
    if cls is None:
        return []
    found: list[str] = []
    _walk(inputs, cls, "", found)
    return [UnknownKey(f"{resource_type} {name}", path) for path in found]


def plan_unknown_keys(plan: Plan) -> list[UnknownKey]:
    return [
        problem
        for resource in plan.resources
        if resource.custom or resource.type.startswith("pulumi:providers:")
        for problem in unknown_keys(resource.type, resource.name, resource.inputs)
    ]


# Dynamic resources (pulumi.dynamic) have no SDK: their inputs are what the program's own provider reads,
# which that provider's tests check (tests/sentry/test_project_defaults.py).
DYNAMIC_RESOURCE_PREFIX = "pulumi-python:dynamic"


def unchecked_types(plan: Plan) -> set[str]:
    """Provider resource types of the plan that no SDK input type covers (the check would skip them)."""
    return {
        resource.type
        for resource in plan.resources
        if (resource.custom or resource.type.startswith("pulumi:providers:"))
        and not resource.type.startswith(DYNAMIC_RESOURCE_PREFIX)
        and args_class(resource.type) is None
    }
