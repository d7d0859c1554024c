"""Every policy of the pack is explained where a stopped update sends its reader."""

from __future__ import annotations

from screener_policies import POLICIES

from infra.config.stackfile import REPO_ROOT


def test_troubleshooting_names_every_policy_of_the_pack() -> None:
    """A policy violation stops an update: docs/troubleshooting.md says what each policy refuses and the fix."""
    page = (REPO_ROOT / "docs" / "troubleshooting.md").read_text()
    missing = [policy.name for policy in POLICIES if f"| `{policy.name}` |" not in page]
    assert missing == []
