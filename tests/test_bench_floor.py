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
from typing import Any

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
    return [cls for cls in map(_sdk_class, sorted(types)) if cls is not None]


def test_the_floor_registers_each_planned_resource_as_its_sdk_constructor_does() -> None:
    classes = _planned_sdk_classes()
    assert len(classes) > 40  # every SDK class the stacks use, providers included
    for sdk_class in classes:
        source = inspect.getsource(sdk_class._internal_init)  # type: ignore[attr-defined]
        (args_class_name,) = set(re.findall(r"__props__ = (\w+)\.__new__", source))
        set_by_constructor = set(re.findall(r'__props__\.__dict__\["(\w+)"\]', source)) - UNDECLARED_INPUTS
        to_wire = _python_to_wire(sdk_class)
        declared = set_by_constructor & set(to_wire)
        if sdk_class.__name__ != "Provider":
            assert declared == set_by_constructor, sdk_class
        # A provider declares a getter for few of its inputs: the floor registers those (one provider
        # of each package per plan), which can only make the floor cheaper than the constructor.
        given = sorted(declared)[:1]

        props = constructor_properties(sdk_class, {to_wire[name]: "given" for name in given})

        assert type(props).__name__ == args_class_name, sdk_class
        assert set(vars(props)) == declared, sdk_class
        assert all(value == ("given" if name in given else None) for name, value in vars(props).items())


def test_a_class_without_an_args_type_gets_the_inputs_as_they_are() -> None:
    assert constructor_properties(pulumi.CustomResource, {"a": 1}) == {"a": 1}


def test_the_floor_records_the_stack_of_each_resource_as_a_constructor_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulumi records, per resource, the stack below its class's constructor (pulumi/runtime/resource.py,
    `_get_stack_trace`); the floor's registration from the same place must record as many frames."""
    import pulumi_aws as aws
    from pulumi.runtime import mocks
    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    from bench.floor import Constructor, echo_mocks

    recorded: list[int] = []
    stack_trace = runtime_resource._get_stack_trace
    monkeypatch.setattr(runtime_resource, "_get_stack_trace", lambda: _count(stack_trace(), recorded))

    def program() -> None:
        recorded.clear()  # the stack resource's own registration
        for declare in (_by_the_sdk, _by_the_floor):
            declare(aws, Constructor)

    mocks.set_mocks(echo_mocks(), project="floor-test", stack="test", preview=True)
    set_root_resource(None)  # type: ignore[arg-type]
    try:
        _sync_await(run_in_stack(program))
    finally:
        set_root_resource(None)  # type: ignore[arg-type]
    by_the_sdk, by_the_floor = recorded
    assert by_the_sdk > 0
    assert by_the_floor == by_the_sdk


def _count(trace: Any, recorded: list[int]) -> Any:
    recorded.append(len(trace.frames))
    return trace


def _by_the_sdk(aws: Any, constructor: Any) -> None:
    aws.sns.Topic("by-the-sdk", name="t")


def _by_the_floor(aws: Any, constructor: Any) -> None:
    opts = pulumi.ResourceOptions()
    topic = aws.sns.Topic.__new__(aws.sns.Topic)
    constructor(topic, {"type": "aws:sns/topic:Topic", "name": "by-the-floor", "inputs": {"name": "t"}}, opts)
