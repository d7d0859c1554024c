"""Read a stack file the way the Pulumi CLI hands it to a program.

The CLI passes every config value as a string (structured values as JSON)
and the names of the secret ones; a `secure:` value is decrypted with the
stack's key. Offline there is no key, so a secret becomes a visible
placeholder, never a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.config import SECRET_SETTINGS, ConfigError, StackInput, stack_file_for
from infra.config.loader import NAMESPACE, decode_config_value

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SecretValue:
    """A test override that the stack file would hold as `secure:`."""

    value: str


def placeholder(key: str) -> str:
    return f"<secret {key}>"


@dataclass
class StackFile:
    stack: str
    path: str
    config: dict[str, str]
    secret_keys: list[str]
    unset_secrets: list[str] = field(default_factory=list)
    # Keys an imported Pulumi ESC environment provides (key -> environment): present, value unknown offline.
    from_environment: dict[str, str] = field(default_factory=dict)
    # Imported environments without a definition under esc/: what they provide is unknown offline.
    unknown_environments: list[str] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        return self.config.get("aws:region")


def _yaml_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "mapping" if isinstance(node, yaml.MappingNode) else "single value"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def read_stack_document(text: str, relative: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A stack file's text as (the whole document, its `config:` mapping), or a ConfigError naming the file,
    the line and the fix.

    The Pulumi CLI refuses such files with its own message; offline they would
    otherwise end in a Python traceback.
    """
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            document = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{relative}:{mark.line + 1}" if mark is not None else relative
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and context_mark is not None:
            problem += f", {context} on line {context_mark.line + 1}"
        raise ConfigError([f"{where}: not valid YAML ({problem}); fix the syntax there"]) from None
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            [
                f"{relative}:{_line(root)}: a stack file is a mapping with one key, `config:`, holding the settings; "
                f"this file is a {_yaml_kind(root)}"
            ]
        )
    assert isinstance(document, dict)
    environment_node = next((value for key, value in root.value if key.value == "environment"), None)
    if isinstance(environment_node, yaml.ScalarNode) and not environment_node.tag.endswith(":null"):
        raise ConfigError(
            [
                f"{relative}:{_line(environment_node)}: `environment:` imports ESC environments: a list of their "
                "names (or `imports:` with that list); here it is a single value"
            ]
        )
    config_node = next((value for key, value in root.value if key.value == "config"), None)
    if config_node is None or (isinstance(config_node, yaml.ScalarNode) and config_node.tag.endswith(":null")):
        return document, {}
    if not isinstance(config_node, yaml.MappingNode):
        raise ConfigError(
            [
                f"{relative}:{_line(config_node)}: `config:` must be a mapping of `namespace:key: value` settings "
                f"(e.g. `monitoring:environment: dev`); here it is a {_yaml_kind(config_node)}"
            ]
        )
    problems = []
    for key, value in config_node.value:
        if not (isinstance(key, yaml.ScalarNode) and key.tag.endswith(":str")):
            problems.append(
                f"{relative}:{_line(key)}: config key {key.value!r} is not a setting name; write "
                "`namespace:key` (e.g. `monitoring:environment`)"
            )
        elif isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            problems.append(
                f"{relative}:{_line(value)}: {key.value}: the value is empty (null); set a value or remove the key"
            )
    if problems:
        raise ConfigError(problems)
    return document, dict(document["config"])


def _as_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


ESC_DIR = "esc"


def imported_environments(document: dict[str, Any]) -> list[str]:
    """The ESC environments a stack file imports (`environment: [a, b]` or `environment: {imports: [...]}`)."""
    section = document.get("environment") or []
    names = section.get("imports", []) if isinstance(section, dict) else section
    return [str(name) for name in names]


def environment_config_keys(name: str, root: Path = REPO_ROOT) -> dict[str, bool] | None:
    """Keys (-> secret?) the committed definition esc/<name>.yaml exposes as `pulumiConfig`; None without one.

    A reference is by `[<org>/][<project>/]<env>`; the definition is named after the environment.
    """
    path = root / ESC_DIR / f"{name.rsplit('/', 1)[-1]}.yaml"
    if not path.is_file():
        return None
    values = (yaml.safe_load(path.read_text()) or {}).get("values") or {}
    exposed = values.get("pulumiConfig") or {}
    return {key: isinstance(value, dict) and "fn::secret" in value for key, value in exposed.items()}


@cache
def project_config_defaults(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The `default` of every key Pulumi.yaml declares: the CLI merges them into a stack's config when the
    stack file lacks the key (pulumi/pulumi pkg/workspace/config.go, mergeConfig), so the plan does too."""
    declared = (yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}).get("config") or {}
    return {key: spec["default"] for key, spec in declared.items() if isinstance(spec, dict) and "default" in spec}


def load_stack_file(
    stack: str,
    *,
    fill_unset_secrets: bool = True,
    overrides: dict[str, Any] | None = None,
    root: Path = REPO_ROOT,
    path: Path | None = None,
) -> StackFile:
    """The stack's configuration as the CLI hands it to the program, read from stacks/Pulumi.<stack>.yaml under
    `root` or from the draft at `path` (`--stack-file`); with `fill_unset_secrets` (the plan), placeholders
    stand in for the secrets an imported ESC environment provides and for required ones nobody set; without,
    the plan sees only what the stack file itself holds."""
    relative = stack_file_for(stack) if path is None else str(path)
    path = root / relative if path is None else path
    if not path.is_file():
        available = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (root / "stacks").glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(f"no stack file {relative}; stacks here: {', '.join(available)}")
    document, entries = read_stack_document(path.read_text(), relative)
    for key, value in (overrides or {}).items():
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in entries.items():
        full_key = key if ":" in key else f"{NAMESPACE}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = placeholder(full_key)
            secret_keys.append(full_key)
        elif isinstance(value, SecretValue):
            config[full_key] = value.value
            secret_keys.append(full_key)
        else:
            config[full_key] = _as_config_string(value)

    # ESC first, then the project's defaults: the CLI merges the imported environments' pulumiConfig under
    # the stack file's own keys, then applies Pulumi.yaml's defaults (pkg/workspace/config.go, mergeConfig).
    from_environment: dict[str, str] = {}
    unknown_environments: list[str] = []
    # `fill_unset_secrets=False` is the stack file alone: nothing invented, not even what an environment provides.
    for environment in imported_environments(document) if fill_unset_secrets else []:
        exposed = environment_config_keys(environment, root)
        if exposed is None:
            unknown_environments.append(environment)
            continue
        for key, secret in exposed.items():
            full_key = key if ":" in key else f"{NAMESPACE}:{key}"
            if full_key in config:
                continue
            config[full_key] = placeholder(full_key)
            from_environment[full_key] = environment
            if secret:
                secret_keys.append(full_key)

    for key, default in project_config_defaults(root).items():
        config.setdefault(key, _as_config_string(default))

    unset: list[str] = []
    if fill_unset_secrets:
        # Secrets are never committed; offline, a required secret that the
        # file lacks gets a placeholder so the plan can show where it flows.
        # Optional ones stay unset: the plan shows the stack as configured.
        sections = {key.removeprefix(f"{NAMESPACE}:") for key in config}
        for setting in SECRET_SETTINGS:
            full_key = f"{NAMESPACE}:{setting.key}"
            if setting.required_by(sections) and full_key not in config:
                config[full_key] = placeholder(full_key)
                secret_keys.append(full_key)
                unset.append(full_key)
    return StackFile(
        stack=stack,
        path=relative,
        config=config,
        secret_keys=secret_keys,
        unset_secrets=unset,
        from_environment=from_environment,
        unknown_environments=unknown_environments,
    )


@cache
def stack_settings(stack: str) -> StackInput:
    """The validated non-secret settings of a committed stack, without running the program.

    For the pure renderers (rules, dashboards, scrape configs) and local tools: the
    values are decoded as `load_stack_config` decodes them (JSON for
    structured values), and secrets are left out.
    """
    stack_file = load_stack_file(stack, fill_unset_secrets=False)
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): decode_config_value(value)
        for key, value in stack_file.config.items()
        if key.startswith(f"{NAMESPACE}:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)
