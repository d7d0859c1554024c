"""The README and docs/: short front page, every link and anchor resolves, every make target and
configuration key they name exists, and the generated pages are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from infra.config import SECRET_SETTINGS, StackInput
from infra.config.stackfile import REPO_ROOT
from planner.config_docs import _section_model
from planner.dashboards_doc import GUIDE_FILE, current_guide
from planner.markdown import anchor

PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _prose(page: Path) -> str:
    return FENCE.sub("", page.read_text())


def anchors_of(page: Path) -> set[str]:
    """The anchors GitHub makes for a page's headings (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for line in _prose(page).splitlines():
        if match := re.match(r"^#{1,6} (.+?)\s*$", line):
            slug = anchor(match.group(1))
            count = seen.get(slug, 0)
            found.add(slug if count == 0 else f"{slug}-{count}")
            seen[slug] = count + 1
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors_of(resolved):
            broken.append(f"{target}: no heading with that anchor in {resolved.name}")
    return broken


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (REPO_ROOT / "Makefile").read_text(), re.M))


def config_keys() -> set[str]:
    """Every key a stack file may set under `monitoring:`, nested ones as dotted paths."""
    keys: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            key = f"{prefix}{field.alias or name}"
            keys.add(key)
            if (nested := _section_model(field.annotation)) is not None:
                walk(nested, f"{key}.")

    walk(StackInput, "")
    return keys | {setting.key for setting in SECRET_SETTINGS}


def test_the_readme_reads_in_five_minutes() -> None:
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    # The two commands a fresh machine runs come first.
    assert "make plan" in "\n".join(lines[:6]) and "make test" in "\n".join(lines[:6])


def test_docs_has_a_page_per_task() -> None:
    names = {page.stem for page in PAGES}
    assert {"deploying", "configuration", "troubleshooting", "dashboards", "runbooks"} <= names
    assert len([page for page in PAGES if page.parent.name == "docs"]) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [second](other.md#a-section-1) [gone](missing.md) [bad](other.md#nope) "
        "[self](#here)\n\n## Here\n\n```\n[in a fence](ignored.md)\n```\n[web](https://example.org/x.md)\n"
    )
    assert broken_links(page) == ["missing.md: no such file", "other.md#nope: no heading with that anchor in other.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_make_target_a_page_names_exists(page: Path) -> None:
    named = set(re.findall(r"(?:`|^)make ([a-z][a-z-]+)", page.read_text(), re.M))
    assert named - make_targets() == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_configuration_key_a_page_names_exists(page: Path) -> None:
    named = set(re.findall(r"\bmonitoring:([A-Za-z][\w.]*[A-Za-z0-9])", page.read_text()))
    # `monitoring:index:...` is a component type token, not a key.
    named = {key for key in named if not key.startswith("index")}
    assert named - config_keys() == set()


def test_the_key_checker_knows_nested_keys_and_secrets() -> None:
    keys = config_keys()
    assert {"services", "services.scrape.port", "grafana.externalId", "grafanaAuth"} <= keys
    assert "services.scrape.portNumber" not in keys


def test_the_dashboards_guide_is_current() -> None:
    assert GUIDE_FILE.read_text() == current_guide(), "docs/dashboards.md is stale: run `make dashboards-doc`"
