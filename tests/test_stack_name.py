"""STACK=<stack> or Pulumi's fully qualified <org>/<stack> (issue 25 item 9), read by every tool that takes a stack.

Contract: Pulumi docs, "Stacks" (fully qualified names `<organization>/<project>/<stack>`; `--stack` accepts
`<org>/<stack>` too) and "Project file" (`stackConfigDir`: the config file is Pulumi.<stack>.yaml, named after the
stack alone). Pulumi refuses stack names other than alphanumerics, '-', '_' and '.'.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.stack_name import StackName, StackNameError, parse_stack_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prod", StackName("prod", None, "prod")),
        ("acme/prod", StackName("prod", "acme", "acme/prod")),
        ("acme/monitoring/prod", StackName("prod", "acme", "acme/monitoring/prod")),
        ("my-org.1/dev_2", StackName("dev_2", "my-org.1", "my-org.1/dev_2")),
    ],
)
def test_the_stack_file_is_named_after_the_stack_and_pulumi_gets_the_name_as_written(
    text: str, expected: StackName
) -> None:
    assert parse_stack_name(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "/prod", "acme/", "acme//prod", "a/b/c/d", "acme/other-project/prod", "../prod", "acme/..", "prod x", "pr$od"],
)
def test_anything_else_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(StackNameError, match="write <stack> or <org>/<stack>"):
        parse_stack_name(text)


def test_make_plan_of_a_qualified_stack_plans_its_stack_file(tmp_path: Path) -> None:
    from planner.__main__ import main

    assert main(["acme/dev", "--quiet", "--out", str(tmp_path)]) == 0
    plan = json.loads((tmp_path / "dev" / "plan.json").read_text())
    assert plan["stack"] == "dev" and plan["stackFile"] == "stacks/Pulumi.dev.yaml"
    assert not (tmp_path / "acme").exists()


def test_the_cost_tool_takes_a_qualified_stack(capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cost.__main__ import main

    assert main(["acme/dev", "--top", "1"]) == 0
    assert any(line.startswith("dev: ") for line in capsys.readouterr().out.splitlines())


def test_a_bad_stack_name_is_a_usage_error_naming_the_forms(capsys: pytest.CaptureFixture[str]) -> None:
    from planner.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["../prod"])
    assert exit_.value.code == 2
    assert "STACK='../prod' is not a stack name" in capsys.readouterr().err
