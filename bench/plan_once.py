"""One offline plan in a fresh interpreter, measured the same way as bench/floor.py."""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

# "The SDKs": Pulumi's and the providers', and the dashboard SDK.
SDK_PACKAGES = {"pulumi", "pulumi_aws", "pulumiverse_grafana", "pulumi_kubernetes", "grafana_foundation_sdk"}


def main() -> None:
    started = time.perf_counter()
    stack = sys.argv[1]
    extra_services = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    replay_file = sys.argv[3] if len(sys.argv) > 3 else None
    from planner.engine import run_stack
    from planner.stackfile import REPO_ROOT

    overrides: dict[str, Any] | None = None
    if extra_services:
        import yaml

        document = yaml.safe_load((REPO_ROOT / f"stacks/Pulumi.{stack}.yaml").read_text())
        services = list(document["config"]["monitoring:services"])
        # Grow the catalog with copies of the scraped services under new names.
        # Celery has one exporter per stack (one broker), so the catalog grows by the other kinds.
        scraped = [s for s in services if s.get("scrape") and s["kind"] != "celery"]
        for index in range(extra_services):
            template = dict(scraped[index % len(scraped)])
            template["name"] = f"{template['name']}-x{index}"
            template["scrape"] = {**template["scrape"], "k8sService": template["name"]}
            if "healthUrl" in template:  # public services need their own endpoint to probe
                template["healthUrl"] = f"https://{template['name']}.bench.screener.kr/health"
            services.append(template)
        overrides = {"monitoring:services": services}
    plan = run_stack(stack, overrides=overrides)
    finished = time.perf_counter()
    # The floor imports exactly the SDK modules this plan imported, lazily loaded ones included.
    modules = sorted(name for name in sys.modules if name.split(".")[0] in SDK_PACKAGES)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if replay_file:
        _write_replay(replay_file, plan, modules)
    print(
        json.dumps(
            {
                "seconds": finished - started,
                "resources": sum(1 for r in plan.resources if r.custom),
                "components": sum(1 for r in plan.resources if not r.custom),
                "services": len(json.loads(plan.stack_file.config["monitoring:services"])),
                "modules": modules,
                "peak_mib": peak_kib / 1024,
            }
        )
    )


def _write_replay(path: str, plan: Any, modules: list[str]) -> None:
    """What bench/floor.py replays: the modules and every resource with its plain inputs."""
    from pulumi.runtime import rpc

    def plain(value: Any) -> Any:
        value = rpc.unwrap_rpc_secret(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    resources = [
        {
            "urn": r.urn,
            "parent": r.parent,
            "depth": r.urn.split("::")[2].count("$"),
            "type": r.type,
            "name": r.name,
            "custom": r.custom,
            "inputs": plain(r.raw_inputs) if r.custom else {},
        }
        for r in plan.resources
    ]
    with open(path, "w") as handle:
        json.dump({"modules": modules, "resources": resources}, handle)


if __name__ == "__main__":
    main()
