"""The bench floor registers a resource as the SDK's own constructor does.

`make bench` compares a plan with a floor that replays the plan's resources under
Pulumi's mock engine. If the floor registered fewer properties than the SDK's
generated constructor, the SDK's own per-resource work would be charged to the
program. The contract is the generated `_internal_init` of each SDK class: it sets
`__props__.__dict__[<python name>]` for every input (given or None) and every
output (None), e.g. pulumi_kubernetes/helm/v3/Release.py.
"""

from __future__ import annotations

import inspect
import re

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumiverse_grafana as grafana
import pytest

from bench.floor import declared_properties

# Set by the constructor but declared by no getter: the Helm release's hidden `compat` input.
UNDECLARED_INPUTS = {"compat"}


def _python_to_wire(sdk_class: type) -> dict[str, str]:
    return {
        name: member.fget._pulumi_name  # type: ignore[union-attr]
        for klass in sdk_class.__mro__
        for name, member in vars(klass).items()
        if isinstance(member, property) and hasattr(member.fget, "_pulumi_name")
    }


@pytest.mark.parametrize(
    "sdk_class",
    [
        k8s.helm.v3.Release,
        k8s.core.v1.Secret,
        aws.iam.Role,
        aws.amp.Workspace,
        aws.sns.Topic,
        grafana.alerting.RuleGroup,
        grafana.syntheticmonitoring.Check,
    ],
)
def test_the_floor_registers_every_property_the_sdk_constructor_registers(sdk_class: type) -> None:
    source = inspect.getsource(sdk_class._internal_init)  # type: ignore[attr-defined]
    set_by_constructor = set(re.findall(r'__props__\.__dict__\["(\w+)"\]', source)) - UNDECLARED_INPUTS
    to_wire = _python_to_wire(sdk_class)
    assert set_by_constructor <= set(to_wire), set_by_constructor - set(to_wire)
    assert set(declared_properties(sdk_class)) == {to_wire[name] for name in set_by_constructor}
    assert all(value is None for value in declared_properties(sdk_class).values())


def test_a_class_without_getters_adds_nothing() -> None:
    assert declared_properties(pulumi.CustomResource) == {}
