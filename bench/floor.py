"""The floor: what the plan's resources cost the SDKs and the mock engine alone.

Reads (from a JSON file named on the command line) the SDK modules the plan
imported and every resource it declared: type, logical name, parent, custom
or component, inputs. Imports those modules, then registers the same
resources with the same inputs and parents under Pulumi's own mock monitor
with a mock that echoes inputs: no program logic, no fakes, no recording.
Each custom resource is registered as its SDK constructor registers it: with
every property its class declares, None where the plan set none.
So the floor grows with the number and the size of the resources exactly as
the plan does, and the difference is our program's own cost.
Prints one JSON line: seconds (in-process, after interpreter start) and peak RSS.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from typing import Any


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

    class Echo(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    def program() -> None:
        declared: dict[str, pulumi.Resource] = {}
        # Parents come before their children in URN order of depth.
        for item in sorted(replay["resources"], key=lambda r: r["depth"]):
            opts = pulumi.ResourceOptions(parent=declared.get(item["parent"]))
            if item["custom"]:
                # An instance of the SDK's own class, so the SDK's per-class work (output
                # types resolved when the engine answers) counts in the floor; its
                # __init__ is skipped because the inputs are already in wire form.
                # What that __init__ registers is kept: every property the class declares,
                # the ones not given and all outputs as None (its _internal_init does
                # `__props__.__dict__[...] = None` for each; the engine tracks an Output apiece).
                sdk_class = _sdk_class(item["type"]) or pulumi.CustomResource
                custom = sdk_class.__new__(sdk_class)
                properties = {**declared_properties(sdk_class), **item["inputs"]}
                pulumi.CustomResource.__init__(custom, item["type"], item["name"], properties, opts)
                declared[item["urn"]] = custom
            else:
                declared[item["urn"]] = pulumi.ComponentResource(item["type"], item["name"], None, opts)

    # The program's own garbage-collection policy (infra/gc_policy.py), applied where the program applies it.
    apply_gc_policy()
    mocks.set_mocks(Echo(), project="monitoring", stack="floor", preview=True)
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
}


def declared_properties(sdk_class: type) -> dict[str, None]:
    """Every property an SDK resource class declares (`@pulumi.getter`), by wire name, all None.

    The generated constructors register exactly these (pulumi_kubernetes/helm/v3/Release.py
    `_internal_init`: 36 properties, of which a plan sets about 7); pulumi.CustomResource declares none.
    """
    cached = _DECLARED.get(sdk_class)
    if cached is None:
        # pulumi.getter marks each property's getter with its wire name (pulumi/_types.py, _PULUMI_NAME).
        getters = (
            member.fget
            for klass in sdk_class.__mro__
            for member in vars(klass).values()
            if isinstance(member, property)
        )
        names = {wire for wire in (getattr(getter, "_pulumi_name", None) for getter in getters) if wire}
        cached = _DECLARED[sdk_class] = dict.fromkeys(sorted(names))
    return cached


_DECLARED: dict[type, dict[str, None]] = {}


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
