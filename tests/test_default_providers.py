"""No Kubernetes or Grafana resource can fall back to a default provider.

Each stack file sets `pulumi:disable-default-providers` for every non-AWS
package the program uses (AWS keeps its default provider: `aws:region` in the
stack file configures it). The real engine then refuses a resource or call of
such a package without `provider=` ("Default provider for 'kubernetes'
disabled. ... must use an explicit provider": pulumi/pulumi
pkg/resource/deploy/default_providers.go, shouldDenyRequest, and its lifecycle
test `default-blocked`); the offline engine refuses it the same way, so
`make plan` fails where `pulumi preview` would.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra.config.stackfile import load_stack_file
from planner.engine import DISABLE_DEFAULT_PROVIDERS_KEY, disabled_default_providers, run_program
from tests.conftest import STACKS, plan_of

# Packages that keep their default provider, and why.
DEFAULT_PROVIDER_ALLOWED = {
    "aws",  # one account and region per stack, both from the stack file
    # Dynamic resources (pulumi.dynamic): the provider is the serialized object each resource carries in its
    # `__provider` input; the package has no configuration to get wrong and no explicit provider to name.
    "pulumi-python",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_disables_the_default_provider_of_each_non_aws_package(stack):
    plan = plan_of(stack)
    disabled = disabled_default_providers(plan.stack_file.config)
    assert {"kubernetes", "grafana"} <= disabled
    used = {r.type.split(":")[0] for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")}
    assert used - DEFAULT_PROVIDER_ALLOWED <= disabled, (
        f"{plan.stack_file.path}: add to {DISABLE_DEFAULT_PROVIDERS_KEY}"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_and_grafana_resource_names_a_provider_of_its_own_package(stack):
    plan = plan_of(stack)
    providers = {
        r.urn: r.type.removeprefix("pulumi:providers:")
        for r in plan.resources
        if r.type.startswith("pulumi:providers:")
    }
    checked = 0
    for resource in plan.resources:
        package = resource.type.split(":")[0]
        if not resource.custom or resource.type.startswith("pulumi:providers:") or package in DEFAULT_PROVIDER_ALLOWED:
            continue
        provider_urn = resource.provider.rsplit("::", 1)[0]
        assert providers.get(provider_urn) == package, (
            f"{resource.type} {resource.name}: provider {resource.provider!r}"
        )
        checked += 1
    assert checked >= {"dev": 16, "staging": 27, "prod": 29}[stack]


def test_the_offline_engine_refuses_a_kubernetes_resource_without_provider_as_the_engine_does():
    def forgot_provider() -> None:
        k8s.core.v1.Namespace("monitoring")

    with pytest.raises(
        ValueError, match=r"Default provider for 'kubernetes' disabled\. 'monitoring' must use an explicit"
    ):
        run_program(load_stack_file("staging"), forgot_provider)

    def named_provider() -> None:
        cluster = k8s.Provider("cluster", kubeconfig="{}")
        k8s.core.v1.Namespace("monitoring", opts=pulumi.ResourceOptions(provider=cluster))

    names = sorted(r.name for r in run_program(load_stack_file("staging"), named_provider).resources)
    assert names == ["cluster", "monitoring"]
