"""The floor: what any plan of N resources costs before our program does anything.

Imports the SDK modules the plan imported (a JSON list on stdin), then registers N bare custom
resources under Pulumi's own mock monitor (no recording, no fakes). Prints
one JSON line: seconds (wall, in-process after interpreter start) and peak RSS.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time


def main() -> None:
    started = time.perf_counter()
    count = int(sys.argv[1])
    modules = json.loads(sys.stdin.read())
    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    for module in modules:
        importlib.import_module(module)
    imported = time.perf_counter()

    class Echo(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, object]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, object], None]:
            return {}, None

    def program() -> None:
        for index in range(count):
            pulumi.CustomResource(
                "floor:index:Thing", f"thing-{index}", {"name": f"thing-{index}", "tags": {"environment": "bench"}}
            )

    mocks.set_mocks(Echo(), project="floor", stack="bench", preview=True)
    set_root_resource(None)  # type: ignore[arg-type]
    _sync_await(run_in_stack(program))
    finished = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": finished - started,
                "import_seconds": imported - started,
                "resources": count,
                "peak_mib": peak_kib / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
