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
import pytest

from bench.floor import _sdk_class, constructor_properties
from tests.conftest import STACKS, plan_of

# Set by the constructor but declared by no getter: the Helm release's hidden `compat` input.
UNDECLARED_INPUTS = {"compat"}


def _python_to_wire(sdk_class: type) -> dict[str, str]:
    return {
        name: member.fget._pulumi_name  # type: ignore[union-attr]
        for klass in sdk_class.__mro__
        for name, member in vars(klass).items()
        if isinstance(member, property) and hasattr(member.fget, "_pulumi_name")
    }


def _planned_sdk_classes() -> list[type]:
    """Every SDK class whose resources the committed stacks declare."""
    types = {resource.type for stack in STACKS for resource in plan_of(stack).resources if resource.custom}
    return sorted({cls for cls in map(_sdk_class, types) if cls is not None}, key=lambda cls: cls.__qualname__)


@pytest.mark.parametrize("sdk_class", _planned_sdk_classes(), ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_the_floor_registers_a_resource_as_its_sdk_constructor_does(sdk_class: type) -> None:
    source = inspect.getsource(sdk_class._internal_init)  # type: ignore[attr-defined]
    (args_class_name,) = set(re.findall(r"__props__ = (\w+)\.__new__", source))
    set_by_constructor = set(re.findall(r'__props__\.__dict__\["(\w+)"\]', source)) - UNDECLARED_INPUTS
    to_wire = _python_to_wire(sdk_class)
    declared = set_by_constructor & set(to_wire)
    if sdk_class.__name__ != "Provider":
        assert declared == set_by_constructor
    # A provider declares a getter for few of its inputs: the floor registers those (one provider of
    # each package per plan), which can only make the floor cheaper than the constructor.
    given = sorted(declared)[:1]

    props = constructor_properties(sdk_class, {to_wire[name]: "given" for name in given})

    assert type(props).__name__ == args_class_name
    assert set(vars(props)) == declared
    assert all(value == ("given" if name in given else None) for name, value in vars(props).items())


def test_a_class_without_an_args_type_gets_the_inputs_as_they_are() -> None:
    assert constructor_properties(pulumi.CustomResource, {"a": 1}) == {"a": 1}
