"""Every runbook link that any stack deploys leads to a heading of docs/runbooks.md.

One check for every kind of alert (AMP rule files, Grafana-managed rules,
CloudWatch alarms, whatever comes next): it reads the links out of the
planned resources themselves, so an alert added anywhere is covered.
"""

from __future__ import annotations

import json
import re

import pytest

from infra.alerting.rules import render_rule_files
from infra.config.stackfile import REPO_ROOT, stack_settings
from tests.conftest import STACKS, plan_of

RUNBOOKS = REPO_ROOT / "docs" / "runbooks.md"
RUNBOOK_LINK = re.compile(r"runbooks\.md#([A-Za-z0-9_-]+)")


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub gives headings: lower-case, punctuation dropped, spaces to '-', '-N' for repeats."""
    anchors: set[str] = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not re.match(r"#{1,6} ", line):
            continue
        base = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        anchor, n = base, 0
        while anchor in anchors:
            n += 1
            anchor = f"{base}-{n}"
        anchors.add(anchor)
    return anchors


def test_github_anchor_rules() -> None:
    assert github_anchors("# API\n## ApiHighErrorRate\n```\n# not a heading\n```\n## Cluster resources\n# API\n") == {
        "api",
        "apihigherrorrate",
        "cluster-resources",
        "api-1",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_runbook_link_a_stack_deploys_resolves_to_a_heading(stack: str) -> None:
    anchors = github_anchors(RUNBOOKS.read_text())
    linked: set[str] = set()
    for resource in plan_of(stack).resources:
        linked |= set(RUNBOOK_LINK.findall(json.dumps(resource.inputs, default=str)))
    # Every stack links its alerts (a plan with none would make this test vacuous).
    assert len(linked) >= 10, sorted(linked)
    assert sorted(linked - anchors) == [], f"{stack}: runbook links with no heading in docs/runbooks.md"


def test_every_runbook_section_of_an_amp_alert_names_an_alert_that_exists() -> None:
    text = RUNBOOKS.read_text()
    amp_part = text[: text.index("## Grafana-managed alerts")]
    sections = {line[3:].strip() for line in amp_part.splitlines() if line.startswith("## ")}
    alerts = {
        match
        for stack in STACKS
        for content in render_rule_files(stack_settings(stack)).values()
        for match in re.findall(r"^\s*- alert: (\S+)$", content, flags=re.MULTILINE)
    }
    assert sections == alerts
