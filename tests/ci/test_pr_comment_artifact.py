"""pr-comment.yml reads the untrusted artifact only as regular files of bounded size, and says it is untrusted.

The workflow's own github-script body runs under node with stub GitHub objects
(tests/ci/run_github_script.cjs) against zip files built here, the way
actions/download-artifact hands them over, with the real unzip and zipinfo.
A fork controls the zip: a `comment.md` that is a symbolic link to
/proc/self/environ (the runner's environment, holding the write token) would
otherwise be posted as a comment.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.stackfile import REPO_ROOT

HARNESS = REPO_ROOT / "tests" / "ci" / "run_github_script.cjs"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
SCRIPT = yaml.safe_load((REPO_ROOT / ".github/workflows/pr-comment.yml").read_text())["jobs"]["comment"]["steps"][0][
    "with"
]["script"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None or shutil.which("unzip") is None, reason="needs node")


def _zip(path: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode below is honoured by unzip
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def _run(tmp_path: Path, zip_path: Path) -> dict[str, Any]:
    artifact = {"id": 1, "name": "plan-diff-dev", "expired": False, "size_in_bytes": zip_path.stat().st_size}
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    result = subprocess.run(
        ["node", str(HARNESS)],
        input=json.dumps({"script": SCRIPT, "zipPath": str(zip_path), "artifact": artifact, "headSha": HEAD_SHA}),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RUNNER_TEMP": str(runner_temp)},
        check=True,
    )
    calls: dict[str, Any] = json.loads(result.stdout)
    assert "error" not in calls, calls
    return calls


def test_a_regular_comment_is_posted_under_the_untrusted_banner(tmp_path: Path) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"pr-number": "12\n", "comment.md": "### diff\nok"}))
    assert calls["failed"] == []
    (body,) = calls["comments"]
    assert body.startswith("<!-- plan-diff:dev -->\n> [!WARNING]\n> Posted from an **untrusted** pull-request run")
    assert body.endswith("### diff\nok")


def test_a_comment_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "environ"
    secret.write_text("GITHUB_TOKEN=ghs_secret")
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"pr-number": "12"}, links={"comment.md": str(secret)}))
    assert calls["comments"] == []
    assert any("symbolic link" in message for message in calls["failed"])


def test_a_pr_number_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"comment.md": "x"}, links={"pr-number": "/etc/hostname"}))
    assert calls["comments"] == [] and calls["failed"]


def test_an_oversized_comment_is_refused(tmp_path: Path) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"pr-number": "12", "comment.md": "x" * (256 * 1024 + 1)}))
    assert calls["comments"] == []
    assert any("at most 262144 bytes" in message for message in calls["failed"])
