"""Files the program uploads, written out of a plan as plain files.

Each entry names a resource type, the input that carries an uploaded
document, and where under build/<stack>/ the document goes. A new component
that uploads a document adds its line here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from planner.engine import SECRET, Plan, PlannedResource


@dataclass(frozen=True)
class ArtifactSpec:
    resource_type: str
    input_key: str | None  # None: the resource's inputs, all of them, are the document
    directory: str
    extension: str
    name_key: str | None = None  # input naming the file; the logical name otherwise


ARTIFACTS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec("aws:amp/ruleGroupNamespace:RuleGroupNamespace", "data", "rules", "yaml", "name"),
    ArtifactSpec("aws:amp/alertManagerDefinition:AlertManagerDefinition", "definition", "alertmanager", "yaml"),
    ArtifactSpec("grafana:index/dashboard:Dashboard", "configJson", "dashboards", "json"),
    ArtifactSpec("grafana:oss/dashboard:Dashboard", "configJson", "dashboards", "json"),
    ArtifactSpec("monitoring:index:MetricsCollection", "scrapeConfig", "collection", "yaml"),
    ArtifactSpec("grafana:syntheticMonitoring/check:Check", None, "synthetics", "json", "job"),
)


def _file_name(resource: PlannedResource, spec: ArtifactSpec) -> str:
    base = resource.inputs.get(spec.name_key) if spec.name_key else None
    return f"{base if isinstance(base, str) else resource.name}.{spec.extension}"


def write_artifacts(plan: Plan, out_dir: Path) -> list[Path]:
    """Write every uploaded document of `plan` under `out_dir`; return the paths."""
    written: list[Path] = []
    for spec in ARTIFACTS:
        for resource in plan.of_type(spec.resource_type):
            content = resource.inputs.get(spec.input_key) if spec.input_key else resource.inputs
            if content is None or content == SECRET:
                continue
            target = out_dir / spec.directory / _file_name(resource, spec)
            target.parent.mkdir(parents=True, exist_ok=True)
            if spec.extension == "json" and isinstance(content, str):
                content = json.dumps(json.loads(content), indent=2, sort_keys=True) + "\n"
            target.write_text(content if isinstance(content, str) else json.dumps(content, indent=2, sort_keys=True))
            written.append(target)
    return written
