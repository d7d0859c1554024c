"""Golden cost model: per stack, the active series the model counts for each service and the
AMP label-set limit the plan gives it. A change to the catalog, a keep-list or an assumption
shows here as numbers a reviewer can check against `make cost`."""

from __future__ import annotations

import json

from tests.conftest import STACKS, plan_of

CONFIGURATION = "aws:amp/workspaceConfiguration:WorkspaceConfiguration"


def generate() -> dict[str, str]:
    files: dict[str, str] = {}
    for stack in STACKS:
        plan = plan_of(stack)
        limits = {
            entry["labelSet"]["service"]: entry["limits"]["maxSeries"]
            for entry in plan.one(CONFIGURATION).inputs.get("limitsPerLabelSets") or []
            if set(entry["labelSet"]) == {"service"}
        }
        document = {"estimate": plan.outputs.get("cost_estimate"), "maxSeriesByService": dict(sorted(limits.items()))}
        files[f"cost/{stack}.json"] = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return files
