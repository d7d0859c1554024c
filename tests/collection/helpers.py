"""What the collection tests read back from a plan: rendered configs, keep-lists, promtool."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from planner.engine import Plan, PlannedResource

COLLECTION = "monitoring:index:MetricsCollection"
SCRAPER = "aws:amp/scraper:Scraper"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROVIDER = "pulumi:providers:kubernetes"


def collection_of(plan: Plan) -> PlannedResource:
    return plan.one(COLLECTION, "collection")


def scrape_config(plan: Plan) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(collection_of(plan).inputs["scrapeConfig"])
    return document


def agent_config_text(plan: Plan) -> str:
    config_map = plan.one(CONFIG_MAP, "collection-agent-config")
    text: str = config_map.inputs["data"]["prometheus.yml"]
    return text


def jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in document["scrape_configs"]}


def keep_regex(job: dict[str, Any]) -> re.Pattern[str]:
    (rule,) = [r for r in job["metric_relabel_configs"] if r.get("action") == "keep"]
    assert rule["source_labels"] == ["__name__"]
    # Prometheus anchors relabel regexes at both ends.
    return re.compile(f"^(?:{rule['regex']})$")


def releases(plan: Plan) -> dict[str, PlannedResource]:
    return {r.inputs["name"]: r for r in plan.of_type(RELEASE)}


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: run `make tools` (installs Debian's prometheus package)"
    return path


@functools.cache
def promtool_knows_kubernetes_sd() -> bool:
    """Debian's build of promtool leaves Kubernetes discovery out; upstream builds have it."""
    probe = {"scrape_configs": [{"job_name": "probe", "kubernetes_sd_configs": [{"role": "node"}]}]}
    return run_promtool(yaml.safe_dump(probe), syntax_only=True).returncode == 0


def run_promtool(
    config_yaml: str, *, agent: bool = False, syntax_only: bool = False
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "prometheus.yml"
        path.write_text(config_yaml)
        flags = [*(["--agent"] if agent else []), *(["--syntax-only"] if syntax_only else [])]
        return subprocess.run(
            [promtool(), "check", "config", *flags, str(path)], capture_output=True, text=True, timeout=60
        )


def for_this_promtool(config_yaml: str) -> str:
    """The config as this promtool can parse it: without Kubernetes SD blocks when its build lacks them.

    Only the discovery block is swapped (for a static target); every relabel
    rule, keep-list, auth, TLS and remote-write setting is still checked. The
    discovery blocks themselves are checked against the upstream schema in
    test_scrape_config.py.
    """
    if promtool_knows_kubernetes_sd():
        return config_yaml
    document = yaml.safe_load(config_yaml)
    for job in document["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["kubernetes-sd.invalid:1"]}]
    return yaml.safe_dump(document, sort_keys=False)
