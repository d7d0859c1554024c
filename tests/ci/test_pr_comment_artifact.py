"""pr-comment.yml reads the untrusted artifact only after checking its zip directory, and says it is untrusted.

The workflow's own github-script body runs under node with stub GitHub objects
(tests/ci/run_github_script.cjs) against zip files built here, the way the
REST API hands an artifact over. A fork controls the zip: a `comment.md` that is
a symbolic link to /proc/self/environ (the runner's environment, holding the
write token) would be posted as a comment if the zip were unzipped and read; a
zip bomb (a few kilobytes that inflate to gigabytes) or a directory that lies
about sizes would fill the runner's disk or memory. The script never unzips to
disk: it refuses, from the central directory, anything but `pr-number` and
`comment.md` as regular files within their uncompressed bounds, then inflates
each in memory with that bound as the limit.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
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
COMMENT_BOUND = 256 * 1024

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


def _zip(path: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode below is what unzip would honour
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Rewrite the uncompressed size `name` declares in the central directory (a lying zip)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length].decode() == name:
            struct.pack_into("<I", data, at + 24, size)
            break
        extra, comment = struct.unpack_from("<HH", data, at + 30)
        at += 46 + name_length + extra + comment
    path.write_bytes(bytes(data))


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
    assert list(runner_temp.iterdir()) == []  # nothing of the artifact ever reaches the disk
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
    assert calls["failed"] == ["plan-diff-dev refused: comment.md is not a regular file (a symbolic link?)"]


def test_a_pr_number_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"comment.md": "x"}, links={"pr-number": "/etc/hostname"}))
    assert calls["comments"] == []
    assert calls["failed"] == ["plan-diff-dev refused: pr-number is not a regular file (a symbolic link?)"]


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_a_comment_at_its_bound_is_posted_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    at, over = _mkdir(tmp_path / "at"), _mkdir(tmp_path / "over")
    at_bound = _run(at, _zip(at / "a.zip", {"pr-number": "12", "comment.md": "x" * COMMENT_BOUND}))
    assert at_bound["failed"] == [] and len(at_bound["comments"]) == 1
    one_more = _run(over, _zip(over / "a.zip", {"pr-number": "12", "comment.md": "x" * (COMMENT_BOUND + 1)}))
    assert one_more["comments"] == []
    assert one_more["failed"] == [
        f"plan-diff-dev refused: comment.md is {COMMENT_BOUND + 1} bytes uncompressed, more than its {COMMENT_BOUND}"
    ]


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated(tmp_path: Path) -> None:
    """64 MiB of zeros deflate to ~64 KiB: the artifact is small, its declared content is not."""
    bomb = _zip(tmp_path / "bomb.zip", {"pr-number": "12", "comment.md": b"\0" * (64 * 1024 * 1024)})
    assert bomb.stat().st_size < 1024 * 1024  # it passes the artifact's own size check
    calls = _run(tmp_path, bomb)
    assert calls["comments"] == []
    assert calls["failed"] == [
        f"plan-diff-dev refused: comment.md is {64 * 1024 * 1024} bytes uncompressed, more than its {COMMENT_BOUND}"
    ]


def test_a_zip_bomb_that_lies_about_its_size_stops_at_the_declared_bound(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "liar.zip", {"pr-number": "12", "comment.md": b"\0" * (64 * 1024 * 1024)})
    _declare_size(bomb, "comment.md", 100)
    calls = _run(tmp_path, bomb)
    assert calls["comments"] == []
    (failure,) = calls["failed"]
    assert failure.startswith("plan-diff-dev refused: comment.md does not inflate within its declared 100 bytes")


@pytest.mark.parametrize("name", ["../comment.md", "/etc/cron.d/x", "plan-diff/comment.md", "stderr"])
def test_an_unexpected_entry_or_path_is_refused(tmp_path: Path, name: str) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"pr-number": "12", name: "x"}))
    assert calls["comments"] == []
    assert calls["failed"] == [
        f"plan-diff-dev refused: holds {json.dumps(name)}, expected pr-number and comment.md only"
    ]


def test_more_entries_than_expected_are_refused_before_any_is_read(tmp_path: Path) -> None:
    calls = _run(tmp_path, _zip(tmp_path / "a.zip", {"pr-number": "12", "comment.md": "x", "a": "", "b": ""}))
    assert calls["comments"] == []
    assert calls["failed"] == ["plan-diff-dev refused: 4 entries, expected pr-number and comment.md only"]


def test_a_duplicated_entry_is_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        zipped = _zip(tmp_path / "a.zip", {"pr-number": "12"})
        with zipfile.ZipFile(zipped, "a") as archive:
            archive.writestr("pr-number", "13")
    calls = _run(tmp_path, zipped)
    assert calls["failed"] == ["plan-diff-dev refused: holds pr-number twice"]
