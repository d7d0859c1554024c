"""The configuration is the bottom layer: every other layer reads it, so it may import none of them.

A config module that imported, say, the cost model would make `infra.cost` and `infra.config`
import each other, and the validated settings would depend on what they are meant to feed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("infra", "dashboards", "planner", "policies", "lab", "oncall", "bench")


def project_imports(module: Path) -> set[str]:
    """The project modules a file imports (absolute imports only; the project uses no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [node.module]
        found.update(name for name in names if name.split(".")[0] in PROJECT_PACKAGES)
    return found


# Leaf data modules the settings are validated against: each imports nothing of the project, so
# no import path leads from them back into the configuration.
LEAF_MODULES = {"infra.logs.contract": "the log formats a `monitoring:logs.sources` entry may name"}


def test_no_config_module_imports_the_layers_above_it() -> None:
    modules = sorted((ROOT / "infra" / "config").glob("*.py"))
    assert len(modules) > 10
    outside = {
        str(module.relative_to(ROOT)): sorted(
            name for name in project_imports(module) if not name.startswith("infra.config") and name not in LEAF_MODULES
        )
        for module in modules
    }
    assert {path: names for path, names in outside.items() if names} == {}


def test_the_leaf_modules_the_config_may_import_import_nothing_of_the_project() -> None:
    for name in LEAF_MODULES:
        assert project_imports(ROOT / (name.replace(".", "/") + ".py")) == set(), name


def test_the_import_scan_sees_a_backward_import(tmp_path: Path) -> None:
    module = tmp_path / "cost.py"
    module.write_text("from infra.cost.assumptions import METRIC_SHAPES\nimport infra.config.base\nimport json\n")
    assert project_imports(module) == {"infra.cost.assumptions", "infra.config.base"}


def test_the_program_imports_neither_the_planner_nor_the_lab() -> None:
    """What `pulumi up` runs (infra/) depends on no offline tool: the planner and the lab are built on it."""
    modules = sorted((ROOT / "infra").rglob("*.py"))
    assert len(modules) > 50
    found = {
        str(module.relative_to(ROOT)): sorted(
            name for name in project_imports(module) if name.split(".")[0] in ("planner", "lab")
        )
        for module in modules
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_only_the_lab_and_the_tests_speak_of_the_lab() -> None:
    """The lab is a test harness: the program, its tools and the policy pack neither serve nor mention it."""
    mentions = re.compile(r"\blab\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("infra", "dashboards", "planner", "policies/screener_policies", "oncall", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if mentions.search(line)
    ]
    assert found == []
