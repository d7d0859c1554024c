"""Build the arguments a policy receives and collect what it reports, without the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def urn(type_token: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::monitoring::{type_token}::{name}"


def args(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    stack: str = "dev",
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_token, props, urn(type_token, name, stack), name, options(protect), None, dict(config or {})
    )


def messages(validate: Callable[..., Any], validation_args: Any) -> list[str]:
    """Every message `validate` reports for `validation_args`."""
    found: list[str] = []
    validate(validation_args, lambda message, urn=None: found.append(message))
    return found


def stack_resource(type_token: str, name: str, props: Mapping[str, Any]) -> PolicyResource:
    return PolicyResource(type_token, props, urn(type_token, name), name, options(), None, None, [], {})
