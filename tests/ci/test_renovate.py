"""renovate.json reads every pin: actions, Python requirements, npm, .pulumi-version, Helm charts, images.

The configuration must match Renovate's schema (check-jsonschema's vendored copy; a broken copy must be
refused). The custom regex managers are run here the way Renovate runs them (JavaScript regular
expressions, global, every match: docs.renovatebot.com/modules/manager/regex) under node, against the
repository's files and against the exact comment format infra/ uses above each ChartPin constant:
`# renovate: datasource=helm depName=<chart> registryUrl=<repo url>`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.config.stackfile import REPO_ROOT
from tests.test_lock import read_lock

CONFIG_PATH = REPO_ROOT / "renovate.json"
CONFIG: dict[str, Any] = json.loads(CONFIG_PATH.read_text())
# One node process reads every text (one per file would start node ~150 times per test).
RUN_REGEX = """
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const results = input.texts.map((text) => {
  const found = [];
  for (const pattern of input.patterns) {
    for (const match of text.matchAll(new RegExp(pattern, 'g'))) found.push({ ...match.groups });
  }
  return found;
});
process.stdout.write(JSON.stringify(results));
"""

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


def custom_manager(datasource: str) -> dict[str, Any]:
    manager: dict[str, Any]
    (manager,) = [
        m
        for m in CONFIG["customManagers"]
        if m.get("datasourceTemplate") == datasource or f"(?<datasource>{datasource})" in m["matchStrings"][0]
    ]
    return manager


def extract_each(manager: dict[str, Any], texts: list[str]) -> list[list[dict[str, str]]]:
    """What the manager's matchStrings find in each text, as Renovate's regex manager runs them (JavaScript)."""
    result = subprocess.run(
        ["node", "-e", RUN_REGEX],
        input=json.dumps({"patterns": manager["matchStrings"], "texts": texts}),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    found: list[list[dict[str, str]]] = json.loads(result.stdout)
    return found


def extract(manager: dict[str, Any], text: str) -> list[dict[str, str]]:
    (found,) = extract_each(manager, [text])
    return found


def extract_files(manager: dict[str, Any]) -> dict[Path, list[dict[str, str]]]:
    paths = files_of(manager)
    return dict(zip(paths, extract_each(manager, [path.read_text() for path in paths]), strict=True))


def files_of(manager: dict[str, Any]) -> list[Path]:
    patterns = [re.compile(p.strip("/")) for p in manager["managerFilePatterns"]]
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    return [REPO_ROOT / f for f in tracked.splitlines() if any(p.search(f) for p in patterns)]


def test_the_configuration_matches_renovates_schema_and_a_broken_copy_does_not(tmp_path: Path) -> None:
    broken = tmp_path / "renovate.json"
    broken.write_text(CONFIG_PATH.read_text().replace('"customType": "regex"', '"customType": "regexp"', 1))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.renovate",
            str(CONFIG_PATH),
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert f"{broken}::$.customManagers[0].customType: 'regexp' is not one of" in result.stdout
    assert str(CONFIG_PATH) not in result.stdout.replace(str(broken), "")


def test_one_bot_reads_the_pins() -> None:
    """Renovate alone: Dependabot version updates would open a second pull request for each bump."""
    assert not (REPO_ROOT / ".github" / "dependabot.yml").exists()
    assert set(CONFIG["enabledManagers"]) == {"github-actions", "pip_requirements", "npm", "custom.regex"}
    assert "helpers:pinGitHubActionDigests" in CONFIG["extends"]  # SHAs stay SHAs, the # vX.Y.Z comment follows


CHART_SNIPPET = """
# renovate: datasource=helm depName=prometheus registryUrl=https://prometheus-community.github.io/helm-charts
PROMETHEUS = ChartPin("prometheus", "27.19.0")  # Prometheus v3 (agent mode: --agent)
# renovate: datasource=helm depName=aws-for-fluent-bit registryUrl=https://aws.github.io/eks-charts
FLUENT_BIT = ChartPin("aws-for-fluent-bit", "0.2.0", repo="https://aws.github.io/eks-charts")
NOT_ANNOTATED = ChartPin("kube-state-metrics", "5.33.0")
"""


@needs_node
def test_the_chart_manager_reads_the_comment_and_the_chartpin_line_after_it() -> None:
    assert extract(custom_manager("helm"), CHART_SNIPPET) == [
        {
            "datasource": "helm",
            "depName": "prometheus",
            "registryUrl": "https://prometheus-community.github.io/helm-charts",
            "currentValue": "27.19.0",
        },
        {
            "datasource": "helm",
            "depName": "aws-for-fluent-bit",
            "registryUrl": "https://aws.github.io/eks-charts",
            "currentValue": "0.2.0",
        },
    ]
    # A blank line between the comment and the constant breaks the pair: nothing is read.
    assert extract(custom_manager("helm"), CHART_SNIPPET.replace("\nPROMETHEUS", "\n\nPROMETHEUS", 1))[0][
        "depName"
    ] != ("prometheus")


CHART_PIN = re.compile(r'^(?P<constant>[A-Za-z_]\w*) = ChartPin\("(?P<name>[^"]+)", "(?P<version>[^"]+)"', re.M)


def chart_pins() -> dict[Path, list[re.Match[str]]]:
    return {path: list(CHART_PIN.finditer(path.read_text())) for path in files_of(custom_manager("helm"))}


@needs_node
def test_every_annotated_chart_pin_is_read_with_its_own_name_and_version() -> None:
    found = extract_files(custom_manager("helm"))
    for path, pins in chart_pins().items():
        read = {(d["depName"], d["currentValue"]) for d in found[path]}
        assert read <= {(m["name"], m["version"]) for m in pins}, path


@needs_node
def test_every_chart_pin_in_infra_is_read_by_renovate() -> None:
    missing = []
    found = extract_files(custom_manager("helm"))
    for path, pins in chart_pins().items():
        read = {d["currentValue"] + "@" + d["depName"] for d in found[path]}
        missing += [f"{path.name}:{m['constant']}" for m in pins if f"{m['version']}@{m['name']}" not in read]
    assert sum(len(p) for p in chart_pins().values()) >= 7 and missing == []


@needs_node
def test_the_image_manager_reads_the_pinned_celery_exporter_image() -> None:
    from infra.collection.celery_exporter import IMAGE

    manager = custom_manager("docker")
    found = [d for per_file in extract_files(manager).values() for d in per_file]
    name, tag = IMAGE.rsplit(":", 1)
    assert {"depName": name, "currentValue": tag} in found


@needs_node
def test_the_cli_manager_reads_pulumi_version_as_the_pulumi_sdk() -> None:
    manager = custom_manager("pypi")
    assert files_of(manager) == [REPO_ROOT / ".pulumi-version"]
    version = (REPO_ROOT / ".pulumi-version").read_text()
    assert extract(manager, version) == [{"currentValue": version.strip()}]
    assert manager["depNameTemplate"] == "pulumi"


def test_the_pulumi_group_holds_every_pulumi_sdk_and_the_cli() -> None:
    (group,) = [rule for rule in CONFIG["packageRules"] if rule.get("groupName") == "pulumi"]
    sdks = [n for n in read_lock((REPO_ROOT / "requirements-dev.lock").read_text()) if n.startswith("pulumi")]
    assert len(sdks) >= 5
    patterns = group["matchPackageNames"]
    assert [n for n in [*sdks, "pulumi"] if not any(fnmatch.fnmatchcase(n, p) for p in patterns)] == []


def test_the_requirements_manager_reads_the_requirements_not_the_locks() -> None:
    patterns = [re.compile(p.strip("/")) for p in CONFIG["pip_requirements"]["managerFilePatterns"]]
    files = ["requirements.txt", "requirements-dev.txt", "policies/requirements.txt"]
    assert [f for f in files if not any(p.search(f) for p in patterns)] == []
    locks = ["requirements.lock", "requirements-dev.lock", "policies/requirements.lock"]
    assert [f for f in locks if any(p.search(f) for p in patterns)] == []
