"""Stacks that import the Pulumi ESC environment `screener-shared`, and stacks that do not.

The CLI merges an imported environment's `pulumiConfig` into the stack's
configuration under the stack file's own keys (pulumi/pulumi
pkg/workspace/config.go, mergeConfig: "Prefers stack values over env values").
Offline the values are unknowable, so the planner plans those keys as
secrets with a placeholder and says where they come from.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra.config import SECRET_SETTINGS, ConfigError
from infra.config.stackfile import REPO_ROOT, environment_config_keys, load_stack_file, placeholder
from planner.engine import SECRET, run_program, warn_placeholders
from tests.conftest import STACKS, plan_of

SHARED = {"monitoring:grafanaAuth", "monitoring:syntheticMonitoringToken", "monitoring:sentryAuthToken"}


def stack_root(tmp_path: Path, stack: str, edit: str = "", *, environment: str | None = "screener-shared") -> Path:
    """A copy of the repository's stack file, Pulumi.yaml and esc/, with the import changed and `edit` appended."""
    (tmp_path / "stacks").mkdir()
    shutil.copytree(REPO_ROOT / "esc", tmp_path / "esc")
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    text = (REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    imports = "" if environment is None else f"environment:\n  - {environment}\n"
    text = re.sub(r"^environment:\n(  - .*\n)+", imports, text, flags=re.M)
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(text + edit)
    return tmp_path


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans_the_shared_tokens_as_present_but_unknown_secrets(stack):
    stack_file = plan_of(stack).stack_file
    assert stack_file.from_environment == dict.fromkeys(SHARED, "screener-shared")
    assert stack_file.unset_secrets == []
    for key in SHARED:
        assert key in stack_file.secret_keys and stack_file.config[key] == placeholder(key)


def test_without_the_import_the_plain_config_set_secret_path_still_works(tmp_path):
    stack_file = load_stack_file("dev", root=stack_root(tmp_path, "dev", environment=None))
    assert stack_file.from_environment == {}
    assert stack_file.unset_secrets == ["monitoring:grafanaAuth", "monitoring:syntheticMonitoringToken"]
    from infra.program import main

    # The planner's handling of the dev file's example values (warnings), as `run_stack` plans.
    plan = run_program(stack_file, functools.partial(main, on_placeholders=warn_placeholders))
    assert plan.one("pulumi:providers:grafana", "grafana").inputs["auth"] == SECRET


def test_a_key_set_in_the_stack_file_wins_over_the_environment(tmp_path):
    edit = "  monitoring:grafanaAuth:\n    secure: AAABAJpcbTNRXrmX0Y9oP2w8zZ6P\n"
    stack_file = load_stack_file("dev", root=stack_root(tmp_path, "dev", edit))
    assert stack_file.from_environment == {
        "monitoring:syntheticMonitoringToken": "screener-shared",
        "monitoring:sentryAuthToken": "screener-shared",
    }
    assert "monitoring:grafanaAuth" in stack_file.secret_keys


def test_an_imported_environment_without_a_definition_is_refused_like_the_cli_refuses_a_missing_one(tmp_path):
    # The CLI fails to open an environment that does not exist; offline, "exists" is "has a definition in esc/".
    with pytest.raises(ConfigError) as refused:
        load_stack_file("dev", root=stack_root(tmp_path, "dev", environment="team/other-env"))
    assert refused.value.problems == [
        "stacks/Pulumi.dev.yaml:7: environment[0]: imports the ESC environment 'team/other-env', which has no "
        "definition esc/other-env.yaml; the Pulumi CLI refuses an environment that does not exist: use one of "
        "screener-shared or commit its definition (without values)"
    ]


def test_a_reference_with_org_and_project_finds_the_definition_by_its_name(tmp_path):
    stack_file = load_stack_file("dev", root=stack_root(tmp_path, "dev", environment="acme/screener/screener-shared"))
    assert set(stack_file.from_environment) == SHARED


def test_the_committed_definition_holds_no_values_and_every_key_has_its_set_command():
    definition = yaml.safe_load((REPO_ROOT / "esc" / "screener-shared.yaml").read_text())
    exposed = definition["values"]["pulumiConfig"]
    assert (
        set(exposed)
        == SHARED
        == {
            f"monitoring:{s.key}"
            for s in SECRET_SETTINGS
            if s.key in {"grafanaAuth", "syntheticMonitoringToken", "sentryAuthToken"}
        }
    )
    readme = (REPO_ROOT / "esc" / "README.md").read_text()
    for key, value in exposed.items():
        assert set(value) == {"fn::secret"} and value["fn::secret"].startswith("[set with: esc env set ")
        assert f"""esc env set <org>/default/screener-shared 'pulumiConfig["{key}"]' """ in readme
        assert re.search(rf"""pulumiConfig\["{key}"\]' '<[^>]+>' --secret""", readme)
    assert environment_config_keys("screener-shared") == dict.fromkeys(SHARED, True)
