"""The Makefile passes no user value through the shell (issue 28 finding 9; the convention in the Makefile's head).

A user value (STACK, MATCH, FOR, COMMENT, URL, ...) spliced into a recipe as $(NAME) becomes shell text: a `'` in
MATCH ends the quoting and the rest runs with the on-call's credentials. Recipes read them as "$$NAME" from the
environment (`export`), which the shell expands once and never parses again; and the Makefile keeps a `$(...)` in
a value given on the command line or in the environment as text (GNU make manual, "The value Function",
"Variables from the Environment", "Overriding Variables": both are recursively expanded otherwise).
The static check reads every recipe, following variables defined in the Makefile to what they expand to; the
run checks what a harmless fake in place of the Python interpreter receives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config.stackfile import REPO_ROOT

MAKEFILE = REPO_ROOT / "Makefile"
# Variables make itself provides: not user values.
MAKE_BUILTINS = frozenset({"MAKE", "MAKEFILE_LIST", "MAKEFLAGS", "CURDIR", "SHELL", ".SHELLFLAGS", "MAKECMDGOALS"})
_DEFINITION = re.compile(r"^(?:override\s+|export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|!=|=)\s*(.*)$")
_REFERENCE = re.compile(r"\$[({]([A-Za-z_.][A-Za-z0-9_]*)[)}]")
# What a user may set, whatever else the Makefile lists (issue 28, common rules).
REQUIRED_USER_VARIABLES = {"STACK", "MATCH", "FOR", "COMMENT", "URL", "BASE", "FORMAT", "OUTPUT", "FAULT", "REPORT"}


def logical_lines(text: str) -> list[str]:
    """The Makefile's lines with backslash continuations joined."""
    return text.replace("\\\n", " ").splitlines()


def references(text: str) -> set[str]:
    """Variables a piece of make text references as $(NAME) or ${NAME}, nested calls included; `$$` is a literal."""
    return set(_REFERENCE.findall(text.replace("$$", "")))


def analyse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]], set[str]]:
    """(definitions NAME -> (operator, value), recipe lines (target, line), declared USER_VARIABLES)."""
    definitions: dict[str, tuple[str, str]] = {}
    recipes: list[tuple[str, str]] = []
    target = ""
    for line in logical_lines(text):
        if line.startswith("\t"):
            if target:
                recipes.append((target, line[1:]))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        definition = _DEFINITION.match(line)
        if definition:
            name, operator, value = definition.groups()
            definitions[name] = (operator, value)
            target = ""
        elif re.match(r"^[^\s:=#][^:=]*:(?!=)", line):
            target = line.split(":", 1)[0]
    declared = set(definitions.get("USER_VARIABLES", ("", ""))[1].split())
    return definitions, recipes, declared


def spliced_user_values(text: str) -> list[str]:
    """Every recipe line that splices a user value, directly or through a variable defined from one."""
    definitions, recipes, declared = analyse(text)

    def is_user_value(name: str) -> bool:
        return name in declared or name not in definitions or definitions[name][0] == "?="

    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, (_, value) in definitions.items():
            if name not in tainted and any(
                (ref in tainted or (is_user_value(ref) and ref not in MAKE_BUILTINS)) for ref in references(value)
            ):
                tainted.add(name)
                changed = True
    findings = []
    for target, line in recipes:
        for name in sorted(references(line)):
            if name in MAKE_BUILTINS:
                continue
            if is_user_value(name) or name in tainted:
                findings.append(f"{target}: $({name}) in: {line.strip()}")
    return findings


_SHELL_REFERENCE = re.compile(r"\$\$\{?([A-Z_][A-Z0-9_]*)")


def unlisted_environment_values(text: str) -> list[str]:
    """User values a recipe reads as "$$NAME" that USER_VARIABLES does not list: the Makefile would neither keep
    a $(...) in them as text nor export them when they come from the environment."""
    _, recipes, declared = analyse(text)
    return sorted(
        {f"{target}: $${name}" for target, line in recipes for name in _SHELL_REFERENCE.findall(line)}
        - {f"{target}: $${name}" for target, line in recipes for name in declared}
    )


def test_no_recipe_splices_a_user_value() -> None:
    text = MAKEFILE.read_text()
    assert spliced_user_values(text) == []
    unlisted = unlisted_environment_values(text)
    assert unlisted == [], f"add each name to USER_VARIABLES at the head of the Makefile: {unlisted}"
    _, recipes, declared = analyse(text)
    assert declared >= REQUIRED_USER_VARIABLES
    assert "export $(USER_VARIABLES)" in logical_lines(text)
    # The check sees the recipes at all (a parser that found none would pass anything).
    assert {"silence", "alerts", "plan", "plan-diff", "cost", "lab", "preview", "up"} <= {t for t, _ in recipes}


@pytest.mark.parametrize(
    ("planted", "found"),
    [
        ("silence:\n\t$(PY) -m oncall silence --match '$(MATCH)'\n", "silence: $(MATCH)"),
        ("plan:\n\t$(PY) -m planner ${STACK}\n", "plan: $(STACK)"),
        ("x:\n\techo $(if $(COMMENT),--comment $(COMMENT))\n", "x: $(COMMENT)"),
        # Through a variable defined from a user value (as the lock recipe's UPGRADE once was).
        ("FLAGS = --url $(URL)\nalerts:\n\t$(PY) -m oncall alerts $(FLAGS)\n", "alerts: $(FLAGS)"),
        # A variable the Makefile never defines can only come from the user.
        ("verify:\n\t$(PY) -m verify --severity $(SEVERITY)\n", "verify: $(SEVERITY)"),
    ],
)
def test_the_check_finds_a_planted_splice(planted: str, found: str) -> None:
    text = MAKEFILE.read_text() + "\n" + planted
    assert any(finding.startswith(found) for finding in spliced_user_values(text))


def test_a_planted_value_read_from_the_environment_but_not_listed_is_found() -> None:
    text = MAKEFILE.read_text() + '\nverify:\n\t$(PY) -m verify --planted "$$PLANTED_VALUE"\n'
    assert unlisted_environment_values(text) == ["verify: $$PLANTED_VALUE"]


def test_the_quoted_environment_form_passes_the_check() -> None:
    text = MAKEFILE.read_text() + '\nx:\n\t$(PY) -m oncall --match "$$MATCH" $${URL:+--url "$$URL"}\n'
    assert spliced_user_values(text) == []


# --- what the tools receive --------------------------------------------------------------------------------------

HOSTILE_MATCH = 'service="a\'b" $(shell touch {pwned}/make) $(touch {pwned}/shell) `touch {pwned}/backtick`; exit 0'
HOSTILE_COMMENT = "it's $(id) and '$(shell touch {pwned}/comment)'"


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A stand-in for the virtualenv's python that records its arguments, one JSON list per line."""
    fake = tmp_path / "python"
    fake.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "with open(os.environ['FAKE_ARGV'], 'a') as out:\n    out.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(0o755)
    return fake


def run_make(fake: Path, tmp_path: Path, *arguments: str, env: dict[str, str] | None = None) -> list[list[str]]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    record = tmp_path / "argv.jsonl"
    record.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in ("STACK", "URL", "MATCH", "FOR", "COMMENT")}
    environment |= {"FAKE_ARGV": str(record), **(env or {})}
    # INSTALLED= : no virtualenv prerequisite; PY=: the fake instead of the interpreter.
    subprocess.run(
        [make, "-s", "-C", str(REPO_ROOT), f"PY={fake}", "INSTALLED=", *arguments],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_match_and_comment_reach_the_on_call_tool_verbatim(fake_python: Path, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    pwned.mkdir()
    match, comment = HOSTILE_MATCH.format(pwned=pwned), HOSTILE_COMMENT.format(pwned=pwned)
    url = "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-1/alertmanager"
    values = ["STACK=acme/prod", f"MATCH={match}", "FOR=2h", f"COMMENT={comment}", f"URL={url}"]
    (argv,) = run_make(fake_python, tmp_path, "silence", *values)
    assert argv == [
        "-m",
        "oncall",
        "silence",
        "--stack",
        "acme/prod",
        "--url",
        url,
        "--match",
        match,
        "--for",
        "2h",
        "--comment",
        comment,
    ]
    assert list(pwned.iterdir()) == []


def test_values_from_the_environment_are_kept_as_text_too(fake_python: Path, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    pwned.mkdir()
    match = HOSTILE_MATCH.format(pwned=pwned)
    (argv,) = run_make(fake_python, tmp_path, "silence", env={"MATCH": match, "FOR": "2h", "STACK": "prod"})
    assert argv[argv.index("--match") + 1] == match and "--comment" not in argv and "--url" not in argv
    assert list(pwned.iterdir()) == []


def test_local_is_passed_only_as_local_1(fake_python: Path, tmp_path: Path) -> None:
    url = "http://127.0.0.1:9093"
    (argv,) = run_make(fake_python, tmp_path, "alerts", f"URL={url}", "LOCAL=1")
    assert argv == ["-m", "oncall", "alerts", "--stack", "dev", "--url", url, "--local"]
    (argv,) = run_make(fake_python, tmp_path, "alerts", f"URL={url}", "LOCAL=0")
    assert "--local" not in argv


def test_a_qualified_stack_reaches_every_stack_tool_as_written(fake_python: Path, tmp_path: Path) -> None:
    stack = "acme/prod"
    assert run_make(fake_python, tmp_path, "plan", f"STACK={stack}") == [["-m", "planner", stack]]
    assert run_make(fake_python, tmp_path, "plan", "VERBOSE=1") == [["-m", "planner", "dev", "--details"]]
    assert run_make(fake_python, tmp_path, "cost", f"STACK={stack}") == [["-m", "infra.cost", stack]]
    assert run_make(fake_python, tmp_path, "plan-diff", f"STACK={stack}", "FORMAT=markdown", "OUTPUT=a b.md") == [
        ["-m", "planner.plan_diff", stack, "--base", "HEAD", "--format", "markdown", "--output", "a b.md"]
    ]


def test_pulumi_gets_the_qualified_stack_as_written(fake_python: Path, tmp_path: Path) -> None:
    """Offline the organisation is ignored; the real `pulumi preview`/`up` get `<org>/<stack>` whole."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(fake_python, bin_dir / "pulumi")
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    # POLICY_VENV= : no policy-pack virtualenv prerequisite either.
    preview = run_make(fake_python, tmp_path, "preview", "STACK=acme/prod", "POLICY_VENV=", env={"PATH": path})
    assert preview == [["preview", "--stack", "acme/prod", "--diff", "--policy-pack", "policies"]]
