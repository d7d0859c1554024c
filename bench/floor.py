"""The floor: what the plan's resources cost the SDKs and the mock engine alone.

Reads (from a JSON file named on the command line) the SDK modules the plan
imported and every resource it declared: type, logical name, parent, custom
or component, inputs. Imports those modules, then registers the same
resources with the same inputs and parents under Pulumi's own mock monitor
with a mock that echoes inputs: no program logic, no fakes, no recording.
Each custom resource is registered as its SDK constructor registers it: as
the class's Args object with every property the class declares, None where
the plan set none.
So the floor grows with the number and the size of the resources exactly as
the plan does, and the difference is our program's own cost.
Prints one JSON line: seconds (in-process, after interpreter start) and peak RSS.
"""

from __future__ import annotations

import functools
import importlib
import json
import resource
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulumi


def main() -> None:
    started = time.perf_counter()
    with open(sys.argv[1]) as handle:
        replay = json.load(handle)
    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    from infra.gc_policy import apply_gc_policy

    for module in replay["modules"]:
        importlib.import_module(module)
    imported = time.perf_counter()

    def program() -> None:
        declared: dict[str, pulumi.Resource] = {}
        # Parents come before their children in URN order of depth.
        for item in sorted(replay["resources"], key=lambda r: r["depth"]):
            opts = pulumi.ResourceOptions(parent=declared.get(item["parent"]))
            if item["custom"]:
                # An instance of the SDK's own class, registered as its generated constructor
                # registers it (constructor_properties): so the SDK's per-class work counts in the
                # floor. The constructor itself is skipped because the inputs are already in wire form.
                sdk_class = _sdk_class(item["type"]) or pulumi.CustomResource
                resource = sdk_class.__new__(sdk_class)
            else:
                resource = pulumi.ComponentResource.__new__(pulumi.ComponentResource)
            Constructor(resource, item, opts)
            declared[item["urn"]] = resource

    # The program's own garbage-collection policy (infra/gc_policy.py), applied where the program applies it.
    apply_gc_policy()
    mocks.set_mocks(echo_mocks(), project="monitoring", stack="floor", preview=True)
    set_root_resource(None)  # type: ignore[arg-type]
    _sync_await(run_in_stack(program))
    finished = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": finished - started,
                "import_seconds": imported - started,
                "resources": len(replay["resources"]),
                "peak_mib": peak_kib / 1024,
            }
        )
    )


_SDK_ROOTS = {
    "aws": "pulumi_aws",
    "grafana": "pulumiverse_grafana",
    "kubernetes": "pulumi_kubernetes",
    "sentry": "pulumiverse_sentry",
    "pagerduty": "pulumi_pagerduty",
}


def echo_mocks() -> Any:
    """Pulumi's mocks answering every registration with its own inputs and every call with nothing:
    no fakes, no recording."""
    from pulumi.runtime import mocks  # imported (and timed) in main(); here a lookup in sys.modules

    class Echo(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    return Echo()


class Constructor:
    """Registers one replayed resource from an `__init__` frame, as a resource class's constructor does.

    For every resource Pulumi records the stack that declared it, one source position per frame:
    the frames below the resource class's own constructor, found as the third `__init__` on the
    stack after Resource's and CustomResource's or ComponentResource's (pulumi/runtime/resource.py,
    `_get_stack_trace`). Registered from a plain function, the replay would have no such frame and
    Pulumi would record nothing, a cost every real constructor pays.
    """

    def __init__(self, resource: pulumi.Resource, item: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        import pulumi  # imported (and timed) in main(); here a lookup in sys.modules

        if isinstance(resource, pulumi.CustomResource):
            properties = constructor_properties(type(resource), item["inputs"])
            pulumi.CustomResource.__init__(resource, item["type"], item["name"], properties, opts)
        elif isinstance(resource, pulumi.ComponentResource):
            pulumi.ComponentResource.__init__(resource, item["type"], item["name"], None, opts)


def constructor_properties(sdk_class: type, inputs: dict[str, Any]) -> Any:
    """`inputs` (wire names) as the SDK's generated constructor hands them to pulumi.CustomResource.

    The constructor (e.g. pulumi_kubernetes/helm/v3/Release.py `_internal_init`) makes a
    `<Class>Args` object and sets every property the class declares on it: the inputs given,
    the inputs not given and every output as None (Release: 36, of which a plan sets about 7).
    Pulumi then serializes them with that Args type's hints and tracks an Output per property.
    A class without an Args type (pulumi.CustomResource) gets `inputs` as they are.
    """
    shape = _constructor_shape(sdk_class)
    if shape is None:
        return dict(inputs)
    args_class, python_names = shape
    props = args_class.__new__(args_class)
    props.__dict__.update(dict.fromkeys(python_names.values()))
    props.__dict__.update({python_names.get(wire, wire): value for wire, value in inputs.items()})
    return props


@functools.cache
def _constructor_shape(sdk_class: type) -> tuple[Any, dict[str, str]] | None:
    """The Args type `sdk_class`'s constructor builds, and the wire -> Python name of every property it declares."""
    module = sys.modules[sdk_class.__module__]
    # `<Class>Args`, or `<Class>InitArgs` where an input type already has that name (pulumi_kubernetes' Secret).
    candidates = (getattr(module, f"{sdk_class.__name__}{suffix}", None) for suffix in ("InitArgs", "Args"))
    args_class = next((candidate for candidate in candidates if candidate is not None), None)
    if args_class is None:
        return None
    # pulumi.getter marks each property's getter with its wire name (pulumi/_types.py, _PULUMI_NAME).
    getters = (
        (name, member.fget)
        for klass in sdk_class.__mro__
        for name, member in vars(klass).items()
        if isinstance(member, property)
    )
    python_names = {wire: name for name, getter in getters if (wire := getattr(getter, "_pulumi_name", None))}
    return args_class, python_names


def _sdk_class(type_token: str) -> Any:
    """`aws:amp/workspace:Workspace` -> pulumi_aws.amp.Workspace (None when not found)."""
    package, module, name = type_token.split(":")
    if package == "pulumi" and module == "providers":
        root = _SDK_ROOTS.get(name)
        return getattr(importlib.import_module(root), "Provider", None) if root else None
    root = _SDK_ROOTS.get(package)
    if root is None:
        return None
    path = module.split("/")[0] if package != "kubernetes" else module.replace("helm.sh", "helm").replace("/", ".")
    try:
        namespace = importlib.import_module(root if path == "index" else f"{root}.{path.lower()}")
    except ImportError:
        return None
    return getattr(namespace, name, None)


if __name__ == "__main__":
    main()
