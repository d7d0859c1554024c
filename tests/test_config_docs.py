"""Pulumi.yaml declares the config schema and documents every key, exactly as the config model defines them.

The declarations must also pass the rules the Pulumi CLI applies to them
(pulumi/pulumi sdk/go/common/workspace/project.go `Validate` and
`ValidateConfigValue`, project.json `configTypeDeclaration`) and to each stack
(pkg/workspace/config.go `mergeConfig`: a declared key without a default is
required, a default is merged in, a `secret` key must be encrypted).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from infra.config import SECRET_SETTINGS, StackInput
from infra.config.stackfile import REPO_ROOT
from planner.config_docs import (
    BEGIN,
    PROJECT_FILE,
    REFERENCE_FILE,
    SCHEMA_BEGIN,
    config_schema,
    render_reference,
    undeclared_keys,
    updated_project_file,
    updated_reference,
)
from planner.markdown import anchor
from tests.conftest import STACKS

PULUMI_TYPES: dict[str, type] = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def valid_for(type_name: str, items: dict[str, Any] | None, value: Any) -> bool:
    """Pulumi's ValidateConfigValue: the value's JSON type, and each item's for an array."""
    python_type = PULUMI_TYPES[type_name]
    if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
        return False
    if isinstance(value, list):
        assert items is not None
        return all(valid_for(items["type"], items.get("items"), item) for item in value)
    return True


# The attributes a project's config declaration may have.
ATTRIBUTES = {"type", "items", "description", "secret", "default", "value"}


def schema_problems(declared: dict[str, dict[str, Any]], project: str = "monitoring") -> list[str]:
    """What Pulumi's project validation would refuse in a `config:` block."""
    problems = []
    for key, spec in declared.items():
        if ":" in key and not key.startswith(f"{project}:"):
            if "type" in spec or "default" in spec or "value" not in spec:
                problems.append(f"{key}: not namespaced by the project: only a `value` is allowed")
            continue
        if unknown := set(spec) - ATTRIBUTES:
            problems.append(f"{key}: unknown attribute(s) {sorted(unknown)}")
        if spec.get("type") not in PULUMI_TYPES:
            problems.append(f"{key}: type {spec.get('type')!r} is not one of {sorted(PULUMI_TYPES)}")
            continue
        if spec["type"] == "array" and "items" not in spec:
            problems.append(f"{key}: declares an array but does not specify the underlying type via 'items'")
        if "default" in spec and "value" in spec:
            problems.append(f"{key}: cannot have both a 'default' and 'value' attribute")
        if "default" in spec and not valid_for(spec["type"], spec.get("items"), spec["default"]):
            problems.append(f"{key}: the default value is not of the expected type '{spec['type']}'")
        if spec.get("secret") and "default" in spec:
            problems.append(f"{key}: a secret's default would be merged in unencrypted and refused")
    return problems


def test_pulumi_yaml_declares_and_the_reference_documents_every_key_of_the_current_model() -> None:
    text = PROJECT_FILE.read_text()
    assert SCHEMA_BEGIN in text
    assert updated_project_file(text) == text, "Pulumi.yaml's configuration schema is stale: run `make config-docs`"
    assert yaml.safe_load(text)["config"] == config_schema()
    reference = REFERENCE_FILE.read_text()
    assert BEGIN in reference
    assert updated_reference(reference) == reference, "docs/configuration.md is stale: run `make config-docs`"


def test_pulumi_yaml_is_a_schema_not_a_manual() -> None:
    """The manual lives in docs/configuration.md; Pulumi.yaml keeps what the CLI reads, at most 150 lines."""
    text = PROJECT_FILE.read_text()
    assert len(text.splitlines()) <= 150
    assert "comment block" not in text


def test_the_reference_names_every_section_nested_key_and_secret() -> None:
    reference = render_reference()
    for name, field in StackInput.model_fields.items():
        assert f"\n### monitoring:{field.alias or name}\n" in reference
    for setting in SECRET_SETTINGS:
        assert f"| `monitoring:{setting.key}` |" in reference
    assert "| `retentionDays` | default 15 |" in reference
    assert "| `scrape.port` | required |" in reference  # a key two levels down
    assert "| `kind` | required | one of `api`, " in reference  # a Literal's choices


def test_each_sections_description_links_the_anchor_its_heading_gets() -> None:
    """Where `pulumi config` and Pulumi Cloud show a description, the link is all there is of the manual."""
    reference = REFERENCE_FILE.read_text()
    headings = {anchor(line[4:]) for line in reference.splitlines() if line.startswith("### ")}
    descriptions = [spec["description"] for spec in config_schema().values()]
    linked = [text for text in descriptions if "docs/configuration.md#" in text]
    assert len(linked) >= 10
    for description in linked:
        target = description.split("docs/configuration.md#", 1)[1].rstrip(")")
        assert target in headings, description
    assert anchor("monitoring:services") == "monitoringservices"


def test_the_declarations_pass_pulumis_project_rules() -> None:
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    assert schema_problems(declared) == []
    assert declared["monitoring:services"] == {
        "type": "array",
        "items": {"type": "object"},
        "description": declared["monitoring:services"]["description"],
    }
    assert declared["monitoring:grafanaAuth"]["secret"] is True and "default" not in declared["monitoring:grafanaAuth"]
    assert declared["monitoring:platform"]["default"] == "screener"


def test_the_rules_checker_refuses_what_pulumi_refuses() -> None:
    """Planted defects, one per rule, so a checker that accepts everything cannot pass."""
    bad: dict[str, dict[str, Any]] = {
        "aws:region": {"type": "string"},
        "monitoring:list": {"type": "array"},
        "monitoring:count": {"type": "integer", "default": "3"},
        "monitoring:token": {"type": "string", "secret": True, "default": ""},
        "monitoring:both": {"type": "string", "default": "a", "value": "b"},
        "monitoring:float": {"type": "number"},
        "monitoring:extra": {"type": "string", "foo": 1},
    }
    assert schema_problems(bad) == [
        "aws:region: not namespaced by the project: only a `value` is allowed",
        "monitoring:list: declares an array but does not specify the underlying type via 'items'",
        "monitoring:count: the default value is not of the expected type 'integer'",
        "monitoring:token: a secret's default would be merged in unencrypted and refused",
        "monitoring:both: cannot have both a 'default' and 'value' attribute",
        f"monitoring:float: type 'number' is not one of {sorted(PULUMI_TYPES)}",
        "monitoring:extra: unknown attribute(s) ['foo']",
    ]


def test_every_key_the_program_reads_is_declared_or_listed_with_its_reason() -> None:
    read = {f"monitoring:{field.alias or name}" for name, field in StackInput.model_fields.items()}
    read |= {f"monitoring:{setting.key}" for setting in SECRET_SETTINGS}
    read |= {"aws:region", "pulumi:disable-default-providers"}
    declared, undeclared = set(config_schema()), set(undeclared_keys())
    assert declared & undeclared == set()
    assert declared | undeclared == read
    assert "# Not declared" in PROJECT_FILE.read_text() and "#   monitoring:cost: optional without a default" in (
        PROJECT_FILE.read_text()
    )


@pytest.mark.parametrize("stack", STACKS)
def test_each_committed_stack_file_satisfies_the_declared_schema(stack: str) -> None:
    """As the CLI's mergeConfig checks it: every required plain key present and of its type.

    The required secrets are set at deployment (`pulumi config set --secret` or an ESC environment), not committed.
    """
    entries = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    for key, spec in config_schema().items():
        if spec.get("secret"):
            assert key not in entries or set(entries[key]) == {"secure"}, f"{key} must be encrypted"
            continue
        value = entries.get(key, spec.get("default"))
        assert value is not None, f"stacks/Pulumi.{stack}.yaml is missing required {key}"
        assert valid_for(spec["type"], spec.get("items"), value), f"{key} is not of type {spec['type']}"


def test_a_sections_default_gives_the_models_own_defaults() -> None:
    """The CLI merges a declared default into the stack's config; the model must read it as its own default."""
    fields = {f"monitoring:{field.alias or name}": field for name, field in StackInput.model_fields.items()}
    defaults = {key: spec["default"] for key, spec in config_schema().items() if "default" in spec}
    assert set(defaults) >= {"monitoring:amp", "monitoring:tags", "monitoring:platform", "monitoring:collection"}
    for key, default in defaults.items():
        field = fields[key]
        assert field.annotation is not None
        parsed = TypeAdapter(field.annotation).validate_python(default)
        assert parsed == field.get_default(call_default_factory=True), key
