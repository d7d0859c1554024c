"""PagerDuty fakes: IDs and integration keys shaped like the ones PagerDuty returns."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

from planner.fakes import FakeContext, resource_fake


@resource_fake("pulumi:providers:pagerduty")
def provider(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{name}-{ctx.uuid(name)}", {}


@resource_fake("pagerduty:index/service:Service")
def service(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    service_id = f"P{ctx.token(name, 6).upper()}"
    return service_id, {"htmlUrl": f"https://screener.pagerduty.com/service-directory/{service_id}"}


@resource_fake("pagerduty:index/serviceIntegration:ServiceIntegration")
def service_integration(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # A 32-character routing key; the program marks it secret (the SDK does not).
    return f"P{ctx.token(name, 6).upper()}", {"integrationKey": rpc.wrap_rpc_secret(ctx.token(f"{name}/key", 32))}
