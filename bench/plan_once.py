"""One offline plan in a fresh interpreter, measured the same way as bench/floor.py."""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

# "The SDKs": Pulumi's and the providers', and the dashboard SDK.
SDK_PACKAGES = {
    "pulumi",
    "pulumi_aws",
    "pulumiverse_grafana",
    "pulumi_kubernetes",
    "pulumiverse_sentry",
    "pulumi_pagerduty",
    "grafana_foundation_sdk",
}


def main() -> None:
    started = time.perf_counter()
    stack = sys.argv[1]
    catalog_size = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    replay_file = sys.argv[3] if len(sys.argv) > 3 else None
    from planner.engine import run_stack

    overrides: dict[str, Any] | None = None
    if catalog_size:
        overrides = generated_overrides(stack, catalog_size)
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


def generated_overrides(stack: str, size: int) -> dict[str, Any]:
    """The generated catalog, and the stack's other settings that name catalog services kept consistent with it.

    Log sources must name catalog services (the config model refuses others): a small catalog keeps
    only the sources whose service it has.
    """
    import yaml

    from infra.config.stackfile import REPO_ROOT

    services = generated_catalog(stack, size)
    overrides: dict[str, Any] = {"monitoring:services": services}
    config = yaml.safe_load((REPO_ROOT / f"stacks/Pulumi.{stack}.yaml").read_text())["config"]
    logs = config.get("monitoring:logs")
    if logs:
        names = {service["name"] for service in services}
        overrides["monitoring:logs"] = {**logs, "sources": [s for s in logs["sources"] if s["service"] in names]}
    return overrides


def generated_catalog(stack: str, size: int) -> list[dict[str, Any]]:
    """A catalog of exactly `size` services made from the stack's own scraped entries, each on its own Service.

    Celery has one exporter per stack (one broker), so the copies cycle through
    the other kinds; a public (api) copy gets its own health endpoint to probe.
    """
    import yaml

    from infra.config.stackfile import REPO_ROOT

    document = yaml.safe_load((REPO_ROOT / f"stacks/Pulumi.{stack}.yaml").read_text())
    templates = [s for s in document["config"]["monitoring:services"] if s.get("scrape") and s["kind"] != "celery"]
    services: list[dict[str, Any]] = []
    for index in range(size):
        template = templates[index % len(templates)]
        name = template["name"] if index < len(templates) else f"{template['name']}-x{index}"
        service = {**template, "name": name, "scrape": {**template["scrape"], "k8sService": name}}
        if "healthUrl" in template:
            service["healthUrl"] = f"https://{name}.bench.screener.kr/health"
        services.append(service)
    return services


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
