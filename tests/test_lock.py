"""Installs come only from the hash-pinned locks, and the locks match requirements*.txt.

requirements*.txt hold the ranges people edit; `make lock` (uv pip compile
--generate-hashes) turns them into requirements.lock, requirements-dev.lock and
policies/requirements.lock, and every install (Makefile, CI, the Pulumi
workflows through `make install`) reads a lock with pip's --require-hashes.
These checks are offline: they compare names and specifiers, never ask PyPI.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra.config.stackfile import REPO_ROOT

# lock -> the requirements file it is compiled from
LOCKS = {
    "requirements.lock": "requirements.txt",
    "requirements-dev.lock": "requirements-dev.txt",
    "policies/requirements.lock": "policies/requirements.txt",
}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
_VIA_FILE = re.compile(r"#\s+(?:via\s+)?-r\s+(?P<file>\S+)")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: int
    via_files: frozenset[str]  # requirements files that ask for it directly


def read_requirements(path: Path, root: Path = REPO_ROOT) -> dict[str, tuple[Requirement, str]]:
    """Every requirement of `path`, following `-r` includes: canonical name -> (requirement, file it is in)."""
    found: dict[str, tuple[Requirement, str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found.update(read_requirements((root / line[3:].strip()), root))
            continue
        requirement = Requirement(line)
        found[canonicalize_name(requirement.name)] = (requirement, str(path.relative_to(root)))
    return found


def read_lock(text: str) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    name = ""
    version = ""
    hashes = 0
    via: set[str] = set()

    def close() -> None:
        if name:
            pins[name] = Pin(version, hashes, frozenset(via))

    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            close()
            name, version, hashes, via = canonicalize_name(pin["name"]), pin["version"], 0, set()
        elif name:
            hashes += line.count("--hash=sha256:")
            via_file = _VIA_FILE.search(line)
            if via_file:
                via.add(via_file["file"])
    close()
    return pins


def lock_problems(lock_name: str, requirements: dict[str, tuple[Requirement, str]], lock_text: str) -> list[str]:
    """Why `lock_text` does not match `requirements` (empty when it does); each line names `make lock`."""
    fix = "run `make lock` and commit the locks"
    pins = read_lock(lock_text)
    problems = []
    for name, (requirement, source) in sorted(requirements.items()):
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{lock_name}: {name} ({source}: {requirement}) is not locked; {fix}")
        elif not requirement.specifier.contains(Version(pin.version), prereleases=True):
            problems.append(
                f"{lock_name}: {name}=={pin.version} is outside {source}'s '{requirement.specifier}'; {fix}"
            )
    for name, pin in sorted(pins.items()):
        if pin.hashes == 0:
            problems.append(f"{lock_name}: {name}=={pin.version} has no --hash; {fix}")
        if pin.via_files and name not in requirements:
            asked_by = ", ".join(sorted(pin.via_files))
            problems.append(f"{lock_name}: {name} is locked for {asked_by}, which no longer asks for it; {fix}")
    return problems


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_exactly_what_its_requirements_ask_for(lock):
    requirements = read_requirements(REPO_ROOT / LOCKS[lock])
    assert lock_problems(lock, requirements, (REPO_ROOT / lock).read_text()) == []


def test_a_requirement_added_without_make_lock_is_reported_naming_make_lock(tmp_path):
    """Planted defects: a new package, a raised bound and a removed package, each against the real dev lock."""
    source = tmp_path / "requirements.txt"
    source.write_text("pulumi>=99,<100\npagerduty-sdk>=1,<2\n")
    requirements = read_requirements(source, tmp_path)
    problems = lock_problems("requirements.lock", requirements, (REPO_ROOT / "requirements.lock").read_text())
    assert any(
        p.startswith("requirements.lock: pulumi==") and "outside requirements.txt's '<100,>=99'" in p for p in problems
    )
    assert any("pagerduty-sdk (requirements.txt: pagerduty-sdk<2,>=1) is not locked" in p for p in problems)
    assert any("pydantic is locked for requirements.txt, which no longer asks for it" in p for p in problems)
    assert all(p.endswith("run `make lock` and commit the locks") for p in problems)


def test_the_runtime_and_policy_locks_use_the_dev_locks_versions():
    """`make lock` constrains the two smaller locks by the dev lock: one version of each package everywhere."""
    dev = read_lock((REPO_ROOT / "requirements-dev.lock").read_text())
    for lock in ("requirements.lock", "policies/requirements.lock"):
        differing = {
            name: (pin.version, dev[name].version if name in dev else None)
            for name, pin in read_lock((REPO_ROOT / lock).read_text()).items()
            if name not in dev or dev[name].version != pin.version
        }
        assert differing == {}, f"{lock} and requirements-dev.lock disagree: run `make lock`"


def _makefile_install_lines() -> list[str]:
    lines = (REPO_ROOT / "Makefile").read_text().splitlines()
    return [line.strip() for line in lines if "pip install" in line and not line.lstrip().startswith("#")]


def test_the_makefile_installs_only_from_the_locks_with_hashes():
    makefile = (REPO_ROOT / "Makefile").read_text()
    installs = re.findall(r"^\t(\S+) \$\(PIP_INSTALL_LOCKED\) (\S+)$", makefile, re.M)
    assert installs == [("$(PY)", "requirements-dev.lock"), ("policies/venv/bin/python", "policies/requirements.lock")]
    assert _makefile_install_lines() == [
        "PIP_INSTALL_LOCKED := -m pip install --quiet --disable-pip-version-check --require-hashes -r"
    ]
    # The virtualenvs are rebuilt when a lock changes, not when the ranges do.
    assert re.search(r"^\$\(INSTALLED\): requirements-dev\.lock$", makefile, re.M)
    assert re.search(r"^\$\(POLICY_VENV\): policies/requirements\.lock$", makefile, re.M)
    # The real CLI's targets build both virtualenvs first: otherwise Pulumi's pip toolchain would
    # create them itself with `pip install -r requirements.txt` (pulumi/pulumi sdk/python/toolchain/pip.go).
    assert re.search(r"^preview: install ", makefile, re.M) and re.search(r"^up: install ", makefile, re.M)


def test_what_make_install_runs_reads_only_the_locks():
    """The commands make would run from scratch (`make -n -B`), not the Makefile's text."""
    dry_run = subprocess.run(
        ["make", "-n", "-B", "install", "plan"], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout
    installs = [line for line in dry_run.splitlines() if "pip install" in line]
    assert installs == [
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock",
        "policies/venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes "
        "-r policies/requirements.lock",
    ]


def test_no_other_entry_point_installs_python_packages_itself():
    """CI, the workflows and the composite action go through make; none runs pip on requirements*.txt."""
    paths = [
        REPO_ROOT / ".ci" / "run",
        *sorted((REPO_ROOT / ".github").rglob("*.yml")),
        *sorted((REPO_ROOT / "scripts").glob("*")),
    ]
    offenders = [
        str(p.relative_to(REPO_ROOT)) for p in paths if re.search(r"pip3? install|uv pip install", p.read_text())
    ]
    assert offenders == []
    # Nor do the README and docs/ tell anyone to: every command that installs a requirements file names a lock.
    readme = "\n".join(p.read_text() for p in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))])
    assert re.findall(r"pip3? install[^\n`]*requirements[\w-]*\.txt", readme) == []
    assert "make install" in readme


def test_the_pinned_cli_is_the_locked_sdk_version_and_every_workflow_uses_it():
    cli = (REPO_ROOT / ".pulumi-version").read_text().strip()
    sdk = read_lock((REPO_ROOT / "requirements.lock").read_text())["pulumi"].version
    assert cli == sdk, f".pulumi-version ({cli}) must be the locked pulumi SDK ({sdk}): move them together"
    steps = []
    for path in sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            steps += [
                (path.name, s) for s in job.get("steps", []) if str(s.get("uses", "")).startswith("pulumi/actions@")
            ]
    assert len(steps) == 5  # pr preview, drift, deploy x3
    assert [name for name, step in steps if step["with"].get("pulumi-version-file") != ".pulumi-version"] == []
    action = yaml.safe_load((REPO_ROOT / ".github" / "actions" / "pulumi-prepare" / "action.yml").read_text())
    esc = next(s for s in action["runs"]["steps"] if str(s.get("uses", "")).startswith("pulumi/esc-action@"))
    assert esc["with"]["version"] == "${{ steps.cli.outputs.version }}"
    assert f"the Pulumi CLI {cli}" in (REPO_ROOT / "docs" / "deploying.md").read_text()
